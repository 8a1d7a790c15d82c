//! `conv-oracle verify`: the row table under a plan (cases, seed, shard).

use crate::*;

/// `I/N` with `I < N`.
pub(crate) fn parse_shard(text: &str) -> Result<Shard, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("'{text}' is not I/N"))?;
    let i: u32 = i.trim().parse().map_err(|e| format!("'{i}': {e}"))?;
    let n: u32 = n.trim().parse().map_err(|e| format!("'{n}': {e}"))?;
    Shard::new(i, n).ok_or_else(|| format!("slice {i} of {n}: I must be below N (I counts from 0)"))
}

pub(crate) fn verify(
    plan: &conv_oracle::verify::Plan,
    json: bool,
    when: progress::When,
) -> ExitCode {
    let rows = conv_oracle::verify::rows();
    let bar = progress::Progress::new("verify", rows.len(), when);
    let handle = bar.handle();
    let summary = conv_oracle::verify::run(&rows, plan, move |o| {
        handle.step(format!("{} ({})", o.property, o.engine));
    });
    bar.finish();
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conv-oracle: error: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = plan.seed;
    let outcomes = &summary.outcomes;
    let total_cases: u64 = outcomes.iter().map(|o| u64::from(o.cases)).sum();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed).collect();
    if json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "property": o.property,
                    "engine": o.engine,
                    "cases": o.cases,
                    "passed": o.passed,
                    "detail": o.detail,
                    "seconds": o.elapsed.as_secs_f64(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "seed": seed,
            "shard": plan.shard.to_string(),
            "properties": outcomes.len(),
            "cases": total_cases,
            "failed": failed.len(),
            "results": rows,
        });
        outln!("{doc:#}");
    } else {
        outln!(
            "{:<40} {:<20} {:>6}  {:<6} {:>8}",
            "property",
            "engine",
            "cases",
            "result",
            "time"
        );
        for o in outcomes {
            outln!(
                "{:<40} {:<20} {:>6}  {:<6} {:>7.2}s",
                o.property,
                o.engine,
                o.cases,
                if o.passed { "pass" } else { "FAIL" },
                o.elapsed.as_secs_f64()
            );
        }
        for o in outcomes.iter().filter(|o| o.passed && !o.detail.is_empty()) {
            outln!("\n{} ({}): {}", o.property, o.engine, o.detail);
        }
        for o in &failed {
            outln!("\nFAIL {} ({}): {}", o.property, o.engine, o.detail);
        }
        if failed.is_empty() {
            outln!(
                "verify: {} properties, {} cases, all passed",
                outcomes.len(),
                total_cases
            );
        } else {
            outln!(
                "verify: {} properties, {} cases, {} failed",
                outcomes.len(),
                total_cases,
                failed.len()
            );
        }
    }
    ExitCode::from(summary.exit_code())
}
