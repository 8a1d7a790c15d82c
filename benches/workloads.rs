//! The issue-4 workloads (float64, mode full, true convolution), one criterion group per
//! workload and one function per method. `scripts/bench_peers.py` runs this bench and the
//! peers (scipy, numpy) in one run and prints the ratios.
//!
//! Groups: `w1_k3`, `w1_k15`, `w1_k63` (2-D 512x512 with 3x3, 15x15, 63x63 kernels) and
//! `w2_k16`, `w2_k1024`, `w2_k65536` (1-D 1,000,000 samples with 16, 1024, 65536 taps).
//! Select with criterion's filter: `cargo bench --bench workloads -- w1_k15`.

mod common;

use common::{LCG_INCREMENT, lcg_data};
use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::problem::Problem;
use conv_oracle::problem::{ConvSpec, Flip, Limits, Padding};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

struct Workload {
    id: &'static str,
    input: Vec<usize>,
    kernel: Vec<usize>,
}

fn workloads() -> Vec<Workload> {
    let w1 = |id, k| Workload {
        id,
        input: vec![1, 1, 512, 512],
        kernel: vec![1, 1, k, k],
    };
    let w2 = |id, k| Workload {
        id,
        input: vec![1, 1, 1_000_000],
        kernel: vec![1, 1, k],
    };
    vec![
        w1("w1_k3", 3),
        w1("w1_k15", 15),
        w1("w1_k63", 63),
        w2("w2_k16", 16),
        w2("w2_k1024", 1024),
        w2("w2_k65536", 65536),
    ]
}

fn bench(c: &mut Criterion) {
    // The direct-work limit is a guard for the reference; these workloads are far beyond it.
    let limits = Limits {
        max_elements: 1 << 32,
        max_work: 1 << 40,
    };
    let engines: Vec<MethodEngine> = Method::ALL.into_iter().map(MethodEngine::new).collect();
    for w in workloads() {
        let x = lcg_data(&w.input, 1, LCG_INCREMENT);
        let k = lcg_data(&w.kernel, 2, LCG_INCREMENT);
        let spec = ConvSpec::new()
            .flip(Flip::Convolution)
            .padding(Padding::Full)
            .limits(limits);
        let p = Problem::new(x.view(), k.view()).spec(spec);
        let mut group = c.benchmark_group(w.id);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for e in &engines {
            // Direct on the large kernels takes seconds per call: measured where Auto could
            // pick it (the 3x3 and 16-tap workloads) only.
            let plan = e.plan(&p).expect("plan");
            if e.method() == Method::Direct && w.kernel.iter().product::<usize>() > 16 {
                continue;
            }
            eprintln!("{} {plan}", w.id);
            group.bench_function(e.method().name(), |b| {
                b.iter(|| black_box(e.conv(black_box(&p)).expect("conv")))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
