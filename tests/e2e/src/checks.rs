//! Assertions shared by the scenarios, on what the chain recorded.

use std::collections::{HashMap, HashSet};

use anyhow::{ensure, Result};
use ballast::engine::fx::FX_ONE;
use solana_address::Address;

use crate::keeper::KeeperProcess;
use crate::world::{LiquidationEvent, World, COLLATERAL_SOL};

/// Every liquidation hit an unhealthy obligation (Maintenance health
/// below 1 before it), and no obligation was liquidated twice from the
/// same state (two liquidations with the same health before would be the
/// same shortfall paid twice). Returns the obligations liquidated.
pub fn sound_liquidations(liqs: &[LiquidationEvent]) -> Result<HashSet<Address>> {
    let mut seen: HashMap<Address, Vec<ballast::engine::fx::Fx>> = HashMap::new();
    for (slot, sig, e) in liqs {
        let h = e.health_before.get();
        ensure!(
            h < FX_ONE,
            "liquidation {sig} at slot {slot} of {} at health {h}",
            e.obligation
        );
        let states = seen.entry(e.obligation).or_default();
        ensure!(
            !states.contains(&h),
            "{} liquidated twice at the same health {h} (second: {sig})",
            e.obligation
        );
        states.push(h);
    }
    Ok(seen.into_keys().collect())
}

/// The borrowers insolvent at SOL = `price` (collateral worth less than
/// the debt at spot): the ones whose debt the bad-debt path must take.
pub fn insolvent_at(world: &World, price: f64) -> HashSet<Address> {
    world
        .borrowers
        .iter()
        .filter(|b| (COLLATERAL_SOL as f64 * price) < b.borrowed as f64 / 1e6)
        .map(|b| b.obligation)
        .collect()
}

/// Bad debt was socialised exactly once for each of `expected`, and each
/// event adds up (insurance + write-off = debt). Returns (covered by
/// insurance, written off), base units.
pub fn socialized_once(world: &World, expected: &HashSet<Address>) -> Result<(u64, u64)> {
    let events = world.socializations()?;
    let once: HashSet<Address> = events.iter().map(|e| e.obligation).collect();
    ensure!(
        once.len() == events.len(),
        "an obligation was socialised twice"
    );
    ensure!(
        &once == expected,
        "socialised {once:?}, expected the insolvent {expected:?}"
    );
    for e in &events {
        ensure!(
            e.covered_by_insurance + e.written_off == e.debt,
            "socialisation of {} does not add up",
            e.obligation
        );
    }
    Ok((
        events.iter().map(|e| e.covered_by_insurance).sum(),
        events.iter().map(|e| e.written_off).sum(),
    ))
}

/// The keeper is still running and its log shows no panic.
pub fn keeper_alive(k: &mut KeeperProcess) -> Result<()> {
    if let Some(status) = k.exited()? {
        anyhow::bail!("{} exited ({status}):\n{}", k.name, k.log_text());
    }
    let log = k.log_text();
    ensure!(!log.contains("panicked"), "{} panicked:\n{log}", k.name);
    Ok(())
}
