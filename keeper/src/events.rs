//! Anchor events in transaction logs: each is a `Program data: <base64>`
//! line holding the event's 8-byte discriminator and its borsh payload.

use base64::Engine;

/// Every event of type `E` in `logs`, in order.
pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.len() >= 8 && &d[..8] == E::DISCRIMINATOR)
        .filter_map(|d| E::deserialize(&mut &d[8..]).ok())
        .collect()
}
