//! `conv-oracle convolve` and `correlate`: the scipy-style signal front end on .npy files.

use crate::*;

pub(crate) fn signal_command(args: &SignalArgs, correlation: bool) -> Result<(), String> {
    check_output(&[&args.in1, &args.in2], &args.out.output, args.out.force)?;
    if args.fillvalue.is_some() && !matches!(args.boundary, Some(BoundaryArg::Fill)) {
        return Err("--fillvalue needs --boundary fill".into());
    }
    let data = vec![read_data(&args.in1)?, read_data(&args.in2)?];
    let mode = match args.mode {
        ModeArg::Full => Mode::Full,
        ModeArg::Same => Mode::Same,
        ModeArg::Valid => Mode::Valid,
    };
    dispatch(
        data,
        &SignalJob {
            args,
            mode,
            correlation,
        },
    )
}

pub(crate) struct SignalJob<'a> {
    args: &'a SignalArgs,
    mode: Mode,
    correlation: bool,
}

impl Job for SignalJob<'_> {
    fn run<T: CliElement>(&self, arrays: Vec<ArrayD<T>>) -> Result<(), String>
    where
        MethodEngine: ConvEngine<T>,
    {
        let args = self.args;
        let engine = args.out.engine().engine();
        let exact = ExactEngine::new();
        let opts = Options {
            engine: args.out.engine().pick(&engine, &exact),
            limits: cli_io::limits(),
        };
        let (x, y) = (&arrays[0], &arrays[1]);
        let context = |e: ConvError| {
            format!(
                "{} with {}, {}: {}",
                if self.correlation {
                    "correlate"
                } else {
                    "convolve"
                },
                args.in1.display(),
                args.in2.display(),
                explain(&e)
            )
        };
        let out = match args.boundary {
            None => if self.correlation {
                correlate_opts(x.view(), y.view(), self.mode, &opts)
            } else {
                convolve_opts(x.view(), y.view(), self.mode, &opts)
            }
            .map_err(context)?,
            Some(b) => {
                let (x2, y2) = (two_d(x, &args.in1)?, two_d(y, &args.in2)?);
                let boundary = match b {
                    BoundaryArg::Fill => Boundary2d::Fill(match &args.fillvalue {
                        None => T::zero(),
                        Some(s) => T::parse_value(s).ok_or_else(|| {
                            format!("--fillvalue '{s}' is not a value of the inputs' dtype")
                        })?,
                    }),
                    BoundaryArg::Wrap => Boundary2d::Wrap,
                    BoundaryArg::Symm => Boundary2d::Symm,
                };
                if self.correlation {
                    correlate2d_opts(x2, y2, self.mode, boundary, &opts)
                } else {
                    convolve2d_opts(x2, y2, self.mode, boundary, &opts)
                }
                .map_err(context)?
                .into_dyn()
            }
        };
        write_npy(&args.out.output, &out, args.out.force)
    }
}

pub(crate) fn two_d<'a, T>(
    a: &'a ArrayD<T>,
    p: &Path,
) -> Result<ndarray::ArrayView2<'a, T>, String> {
    a.view().into_dimensionality::<Ix2>().map_err(|_| {
        format!(
            "{}: --boundary needs 2-D inputs (scipy convolve2d), got {} axes",
            p.display(),
            a.ndim()
        )
    })
}
