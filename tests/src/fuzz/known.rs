//! Known-open defects: checks that fire on today's program because of a
//! defect another issue is fixing. Each is gated here, by name, so that the
//! short run passes; the lead removes an entry once its fix is merged (the
//! check then applies). `FUZZ_UNGATE=1` (or `all`) applies every check
//! regardless; `FUZZ_UNGATE=Issue12CloseFactorBypass,...` the named ones.

use super::world::World;

/// A known-open defect that one check is gated behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Issue 12, "The close factor can be bypassed": a liquidation of a
    /// solvent obligation may leave its health unchanged, or worse when its
    /// health is below LT_c / BF_d (invariant 5: strict improvement and no
    /// worsening).
    Issue12CloseFactorBypass,
    /// Issue 12, "Liquidation needs cash in the collateral vault": an
    /// unhealthy obligation whose every pair fails `InsufficientLiquidity`
    /// (invariant 6).
    Issue12LiquidationNeedsCash,
    /// Issue 12, "Dust blocks liquidation and socialisation": debt with only
    /// dust collateral is not socialisable at once (invariant 6).
    Issue12DustBlocksSocialisation,
    /// Issue 13, "Flash deposit defeats the band and the cap": deployed <=
    /// cap x deposits after every instruction (invariant 7).
    Issue13CapAfterEveryInstruction,
}

/// The defects still open on this branch's program. Remove an entry when
/// its fix is merged.
/// Empty since the fixes of issues 12 and 13 were merged: every check
/// applies, and each gated sequence's regression test now must pass.
pub const KNOWN_OPEN: &[Known] = &[];

/// Whether `FUZZ_UNGATE` asks for the check gated behind `k`.
fn ungated(k: Known) -> bool {
    static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let list = LIST.get_or_init(|| std::env::var("FUZZ_UNGATE").unwrap_or_default());
    list == "1" || list == "all" || list.split(',').any(|x| x.trim() == format!("{k:?}"))
}

/// Whether the check gated behind `k` is skipped in `w`.
pub fn gate(w: &World, k: Known) -> bool {
    w.gated && KNOWN_OPEN.contains(&k) && !ungated(k) && !w.ungate.contains(&k)
}
