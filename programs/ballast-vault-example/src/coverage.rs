//! Reading a Ballast reserve's balance sheet by CPI, and the vault's
//! deposit gate on its liquidity coverage.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::program::get_return_data;
use ballast::engine::balance_sheet::BalanceSheet;

use crate::errors::VaultError;

/// Calls Ballast's `balance_sheet` on `reserve` and decodes its return data
/// (the borsh encoding of [`BalanceSheet`], 113 bytes, documented in
/// `ballast::engine::balance_sheet`). `remaining` is passed on: the
/// strategy reserve when the reserve has a treasury strategy.
///
/// Errors: Ballast's own (wrong market, substituted insurance vault, missing
/// strategy reserve), or [`VaultError::BalanceSheetUnreadable`] when the
/// return data is missing, was not set by Ballast, does not decode, or
/// describes another reserve.
pub fn read_balance_sheet<'info>(
    market: &AccountInfo<'info>,
    reserve: &AccountInfo<'info>,
    insurance_vault: &AccountInfo<'info>,
    remaining: &[AccountInfo<'info>],
) -> Result<BalanceSheet> {
    let accounts = ballast::cpi::accounts::BalanceSheetView {
        market: market.clone(),
        reserve: reserve.clone(),
        insurance_vault: insurance_vault.clone(),
    };
    let ctx = CpiContext::new(ballast::ID, accounts).with_remaining_accounts(remaining.to_vec());
    // Anchor's `Return::get` panics on bad data; read it with an error instead.
    let _ = ballast::cpi::balance_sheet(ctx)?;
    let (program, data) = get_return_data().ok_or(error!(VaultError::BalanceSheetUnreadable))?;
    require_keys_eq!(program, ballast::ID, VaultError::BalanceSheetUnreadable);
    let sheet = BalanceSheet::try_from_slice(&data)
        .map_err(|_| error!(VaultError::BalanceSheetUnreadable))?;
    require_keys_eq!(
        sheet.reserve,
        reserve.key(),
        VaultError::BalanceSheetUnreadable
    );
    Ok(sheet)
}

/// The deposit gate: `coverage_bps >= min_coverage_bps` (a threshold of 0
/// never refuses; a reserve with no stressed outflow reports `u32::MAX` and
/// always passes). Errors: [`VaultError::CoverageBelowThreshold`], logging
/// both values.
pub fn require_coverage(coverage_bps: u32, min_coverage_bps: u32) -> Result<()> {
    if coverage_bps < min_coverage_bps {
        msg!(
            "liquidity coverage {} bps < vault threshold {} bps",
            coverage_bps,
            min_coverage_bps
        );
        return err!(VaultError::CoverageBelowThreshold);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_is_inclusive_at_the_threshold() {
        assert!(require_coverage(10_000, 10_000).is_ok());
        assert!(require_coverage(10_001, 10_000).is_ok());
        assert!(require_coverage(9_999, 10_000).is_err());
        assert!(require_coverage(0, 0).is_ok());
        assert!(require_coverage(u32::MAX, u32::MAX).is_ok());
    }

    #[test]
    fn return_data_layout_is_113_bytes() {
        // The layout the gate depends on: if Ballast changes it, this fails.
        let sheet = BalanceSheet {
            reserve: Pubkey::new_unique(),
            timestamp: 1,
            liquid: 2,
            deployed: 3,
            borrowed: 4,
            assets: 5,
            liabilities: 6,
            protocol_fees: 7,
            insurance: 8,
            utilization_bps: 9,
            liquid_share_bps: 10,
            liquidity_coverage_bps: 0x0102_0304,
            outflow_remaining: 12,
            paused: 1,
        };
        let mut bytes = Vec::new();
        sheet.serialize(&mut bytes).unwrap();
        assert_eq!(bytes.len(), 113);
        // liquidity_coverage_bps at offset 32 + 8 + 7 * 8 + 2 + 2 = 100.
        assert_eq!(&bytes[100..104], &0x0102_0304u32.to_le_bytes());
        assert_eq!(BalanceSheet::try_from_slice(&bytes).unwrap(), sheet);
    }
}
