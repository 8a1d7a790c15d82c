//! `conv-oracle conv`: the layer front end (PyTorch / ONNX) on .npy files.

use crate::*;

pub(crate) fn conv_command(args: &ConvArgs) -> Result<(), String> {
    args.layer.require()?;
    check_output(&args.layer.inputs(), &args.out.output, args.out.force)?;
    args.layer.check_transpose_flags()?;
    let data = args
        .layer
        .inputs()
        .into_iter()
        .map(read_data)
        .collect::<Result<Vec<_>, _>>()?;
    dispatch(data, &ConvJob { args })
}

pub(crate) struct ConvJob<'a> {
    args: &'a ConvArgs,
}

impl Job for ConvJob<'_> {
    fn run<T: CliElement>(&self, arrays: Vec<ArrayD<T>>) -> Result<(), String>
    where
        MethodEngine: ConvEngine<T>,
    {
        let args = self.args;
        let layer = &args.layer;
        let engine = args.out.engine().engine();
        let exact = ExactEngine::new();
        let (x, w) = (&arrays[0], &arrays[1]);
        let bias = layer.bias_view(arrays.get(2))?;
        let rank = layer.spatial_rank(x)?;
        let layout = layer.input_layout();
        let context = |e: ConvError| {
            format!(
                "conv{} with {}, {}: {}",
                if layer.transpose { " --transpose" } else { "" },
                layer.input_path().display(),
                layer.weight_path().display(),
                explain(&e)
            )
        };
        let out = if layer.transpose {
            let spec = layer.transpose_spec(rank)?;
            let xv = input_as_nchw(x.view(), layout).map_err(context)?;
            let mut p = TransposeProblem::new(xv, w.view()).spec(spec);
            p.bias = bias;
            let y = match args.out.engine() {
                EngineArg::Exact => T::exact_transpose(&p),
                EngineArg::Reference => None,
                _ => Some(
                    p.as_conv()
                        .and_then(|eq| args.out.engine().pick(&engine, &exact).conv(&eq.problem())),
                ),
            }
            .unwrap_or_else(|| transpose_literal(&p))
            .map_err(context)?;
            match layout {
                InputLayout::ChannelsFirst => y,
                InputLayout::ChannelsLast => {
                    let mut perm = vec![0];
                    perm.extend(2..y.ndim());
                    perm.push(1);
                    y.permuted_axes(ndarray::IxDyn(&perm))
                        .as_standard_layout()
                        .into_owned()
                }
            }
        } else {
            let spec = layer.spec(rank)?;
            conv_using(
                args.out.engine().pick(&engine, &exact),
                x.view(),
                w.view(),
                bias,
                &spec,
            )
            .map_err(context)?
        };
        write_npy(&args.out.output, &out, args.out.force)
    }
}

// ------------------------------------------------------------------------------ judge
