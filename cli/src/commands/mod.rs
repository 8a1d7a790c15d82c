//! One module per subcommand; `main.rs` parses the arguments and dispatches.

pub(crate) mod conv;
pub(crate) mod judge;
pub(crate) mod pad;
pub(crate) mod prove;
pub(crate) mod signal;
pub(crate) mod vectors;
pub(crate) mod verify;

pub(crate) use conv::conv_command;
pub(crate) use judge::{judge_command, judge_stream};
pub(crate) use pad::pad_command;
pub(crate) use prove::prove_command;
pub(crate) use signal::signal_command;
pub(crate) use vectors::check_vectors;
pub(crate) use verify::{parse_shard, verify};
