//! `conv-oracle prove [NAME] [--show NAME]`: the symbolic checks of the proofs/ pages.

use crate::*;

pub(crate) fn prove_command(name: Option<&str>, show: Option<&str>) -> ExitCode {
    use conv_oracle::proofs::find;
    let Some(claims) = find(show.or(name)) else {
        let names: Vec<&str> = conv_oracle::proofs::claims()
            .iter()
            .map(|c| c.name)
            .collect();
        eprintln!(
            "conv-oracle: error: no claim named '{}'; the claims are: {}",
            show.or(name).unwrap_or_default(),
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    if show.is_some() {
        for c in &claims {
            out!("{}", conv_oracle::proofs::show(c));
        }
        return ExitCode::SUCCESS;
    }
    let report = conv_oracle::proofs::report(&claims);
    out!("{}", report.text);
    ExitCode::from(u8::from(report.failed > 0))
}
