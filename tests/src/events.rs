//! Anchor events, decoded from a transaction's logs.

use solana_instruction::Instruction;

use crate::{Keypair, TestContext};

/// Every Anchor event of type `E` in a transaction's logs (`Program data:`
/// lines: base64 of the 8-byte discriminator and the borsh payload), in order.
pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    use base64::Engine;
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.len() >= 8 && &d[..8] == E::DISCRIMINATOR)
        .map(|d| E::deserialize(&mut &d[8..]).expect("event decodes"))
        .collect()
}

impl TestContext {
    /// Sends `ixs`, expects success and returns the logs.
    pub fn ok_logs(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Vec<String> {
        match self.chain.send(ixs, signers) {
            Ok(meta) => {
                println!("[cu] {label} {}", meta.compute_units_consumed);
                meta.logs
            }
            Err(e) => panic!(
                "[{label}] expected success, got {:?}\n{}",
                e.err,
                e.meta.logs.join("\n")
            ),
        }
    }
}
