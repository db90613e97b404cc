//! `ballast-keeper market apply`: on the embedded chain (provisioning the
//! `"create"` mints and oracles, then applying twice to show the second
//! apply sends nothing), or on a cluster.

use anyhow::{Context, Result};
use solana_signer::Signer;

use crate::cli::args::{Cli, MarketApplyArgs};
use crate::market::{PolicyChoice, PolicyName};

/// The policy override of `--policy`.
fn choice(args: &MarketApplyArgs) -> PolicyChoice {
    match args.policy {
        None => PolicyChoice::AsWritten,
        Some(PolicyName::Static) => PolicyChoice::Static,
        Some(PolicyName::Dynamic) => PolicyChoice::Dynamic,
    }
}

/// `market apply --url <cluster>`: every mint and oracle must exist; the
/// keypair is the admin; `--market-keypair` creates a new market.
#[cfg(feature = "rpc")]
pub(super) fn apply_rpc(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    use crate::cli::read_keypair;
    use crate::market::{apply, resolve_existing, MarketDef};

    let def = MarketDef::load(&args.market)?;
    let choice = choice(args);
    let admin = read_keypair(&cli.keypair_path())?;
    let market_kp = args
        .market_keypair
        .as_deref()
        .map(read_keypair)
        .transpose()?;
    let market = match (&def.market.address, &market_kp) {
        (Some(a), _) => a.parse().context("market.address")?,
        (None, Some(k)) => k.pubkey(),
        (None, None) => anyhow::bail!(
            "{}: no [market] address; give --market-keypair to create it",
            args.market.display()
        ),
    };
    let dep = resolve_existing(&def, market)?;
    let mut chain = crate::chain::rpc::RpcChain::new(&cli.url, admin.insecure_clone());
    let report = apply(&mut chain, &admin, market_kp.as_ref(), &def, &dep, choice)?;
    println!("market `{}` at {}: {report}", def.market.name, dep.market);
    Ok(())
}

/// `market apply --url embedded`: a fresh embedded chain, the `"create"`
/// accounts provisioned, the definition applied twice.
#[cfg(feature = "embedded")]
pub(super) fn apply_embedded(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    use solana_keypair::Keypair;

    use crate::chain::embedded::EmbeddedChain;
    use crate::market::{apply, provision_embedded, MarketDef};

    let def = MarketDef::load(&args.market)?;
    let choice = choice(args);
    let so = super::program_so(cli);
    let mut chain = EmbeddedChain::new(&so)
        .with_context(|| format!("starting the embedded chain with {}", so.display()))?;
    let admin = chain.payer.insecure_clone();
    let market_kp = Keypair::new();
    let market = match &def.market.address {
        Some(a) => a.parse().context("market.address")?,
        None => market_kp.pubkey(),
    };
    let dep = provision_embedded(&mut chain, &def, market)?;
    let first = apply(&mut chain, &admin, Some(&market_kp), &def, &dep, choice)?;
    println!("market `{}` at {}: {first}", def.market.name, dep.market);
    for r in &dep.reserves {
        println!(
            "  {:<6} reserve {}  mint {}  oracle {}",
            r.symbol, r.keys.reserve, r.keys.mint, r.keys.oracle
        );
    }
    let second = apply(&mut chain, &admin, Some(&market_kp), &def, &dep, choice)?;
    println!("re-apply: {second}");
    if second.transactions != 0 {
        anyhow::bail!(
            "a second apply of the same file sent {} transaction(s)",
            second.transactions
        );
    }
    Ok(())
}
