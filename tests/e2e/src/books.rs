//! Reconciliation at the end of a scenario, to the base unit: each
//! reserve's vault against its books and its obligations, and each mint's
//! supply against every token account the world knows (so no token
//! appeared or vanished anywhere).

use anyhow::{ensure, Result};
use ballast::engine::fx::FX_ZERO;
use ballast::state::{PositionKind, Reserve};
use ballast_keeper::ix::ReserveKeys;
use solana_address::Address;
use solana_signer::Signer;

use crate::cluster::Cluster;
use crate::world::World;

/// Checks one reserve: the vault holds `available_amount` exactly; the
/// reserve's deposit shares are the sum of its market's obligations'
/// collateral shares and its debt shares the exact sum of their debt
/// shares. Returns the reserve.
pub fn reconcile_reserve(world: &World, keys: &ReserveKeys) -> Result<Reserve> {
    let reserve: Reserve = world.cluster.ballast(&keys.reserve)?;
    let vault = world.cluster.token_balance(&keys.liquidity_vault)?;
    ensure!(
        vault == reserve.available_amount,
        "reserve {}: vault {vault} != available_amount {}",
        keys.reserve,
        reserve.available_amount
    );
    let (mut deposit_shares, mut borrow_shares) = (0u64, FX_ZERO);
    for (_, ob) in world.obligations(&keys.market)? {
        if let Some(i) = ob.find(&keys.reserve, PositionKind::Collateral) {
            deposit_shares += ob.positions[i].deposit_shares;
        }
        if let Some(i) = ob.find(&keys.reserve, PositionKind::Debt) {
            borrow_shares += ob.positions[i].borrow_shares.get();
        }
    }
    ensure!(
        reserve.deposit_shares == deposit_shares,
        "reserve {}: deposit shares {} != obligations' {deposit_shares}",
        keys.reserve,
        reserve.deposit_shares
    );
    ensure!(
        reserve.borrow_shares.get() == borrow_shares,
        "reserve {}: debt shares {} != obligations' {borrow_shares}",
        keys.reserve,
        reserve.borrow_shares.get()
    );
    Ok(reserve)
}

/// The token accounts of `mint` the world knows: every user's and
/// operator's ATA, and the vaults and insurance vaults of `reserves`.
fn known_accounts(world: &World, mint: &Address, reserves: &[&ReserveKeys]) -> Vec<Address> {
    let mut owners: Vec<Address> = world.borrowers.iter().map(|b| b.keypair.pubkey()).collect();
    owners.push(world.supplier.0.pubkey());
    owners.push(world.admin.keypair.pubkey());
    owners.extend(world.operators.iter().map(|o| o.keypair.pubkey()));
    let mut accounts: Vec<Address> = owners.iter().map(|o| Cluster::ata(o, mint)).collect();
    for r in reserves.iter().filter(|r| r.mint == *mint) {
        accounts.push(r.liquidity_vault);
        accounts.push(r.insurance_vault);
    }
    accounts
}

/// Reconciles every reserve of the world and the supply of both mints;
/// returns one line per check, for the test's output.
pub fn reconcile(world: &World) -> Result<Vec<String>> {
    let mut lines = vec![];
    let reserves = [&world.sol, &world.usdc, &world.strategy];
    for keys in reserves {
        let r = reconcile_reserve(world, keys)?;
        lines.push(format!(
            "reserve {}: vault = available = {}, deposit shares {}, debt shares {}",
            keys.reserve,
            r.available_amount,
            r.deposit_shares,
            r.borrow_shares.get()
        ));
    }
    for mint in [world.sol.mint, world.usdc.mint] {
        let supply = world.cluster.mint_supply(&mint)?;
        let mut held = 0u64;
        for a in known_accounts(world, &mint, &reserves) {
            held += world.cluster.token_balance(&a)?;
        }
        ensure!(
            held == supply,
            "mint {mint}: supply {supply} != {held} in the known token accounts"
        );
        lines.push(format!(
            "mint {mint}: supply {supply} = sum of token accounts"
        ));
    }
    Ok(lines)
}
