//! Command line: `baton serve` (the default) and `baton signals`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "baton", version, about = "Customer-support chat with AI answers and human handoff")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Default, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    #[default]
    Serve,
}

pub trait CommandExt {
    fn is_serve(&self) -> bool;
}

impl CommandExt for Option<Command> {
    fn is_serve(&self) -> bool {
        matches!(self, None | Some(Command::Serve))
    }
}
