//! `market apply` on the embedded chain running the .so: creates what is
//! missing, updates only what differs, and sends nothing the second time.

use ballast::engine::risk::RiskPolicy;
use ballast::state::{Market, Reserve};
use ballast_keeper::chain::embedded::EmbeddedChain;
use ballast_keeper::market::{apply, provision_embedded, MarketDef, PolicyChoice, REPLAY_SOL_USDC};
use solana_keypair::Keypair;
use solana_signer::Signer;

#[test]
fn apply_is_idempotent_and_updates_only_what_differs() {
    let mut chain = EmbeddedChain::new(&EmbeddedChain::default_so_path()).unwrap();
    let admin = chain.payer.insecure_clone();
    let market_kp = Keypair::new();
    let mut def = MarketDef::parse(REPLAY_SOL_USDC).unwrap();
    let dep = provision_embedded(&mut chain, &def, market_kp.pubkey()).unwrap();

    let first = apply(
        &mut chain,
        &admin,
        Some(&market_kp),
        &def,
        &dep,
        PolicyChoice::Static,
    )
    .unwrap();
    assert!(first.created_market);
    assert_eq!(first.created_reserves, vec!["SOL", "USDC"]);
    // The market, two reserves, and USDC's [reserves.term].
    assert_eq!(first.term_updated, vec!["USDC"]);
    assert_eq!(first.transactions, 4);
    let usdc = dep.reserve("USDC").unwrap();
    let r: Reserve = chain.zero_copy(&usdc.keys.reserve).unwrap();
    assert_eq!(r.term_config, def.reserves[1].term_config().unwrap());
    assert!(r.term_config.enabled());
    let sol = dep.reserve("SOL").unwrap();
    let r: Reserve = chain.zero_copy(&sol.keys.reserve).unwrap();
    assert_eq!(
        r.config,
        def.reserves[0]
            .config(sol.feed_id, PolicyChoice::Static)
            .unwrap()
    );
    assert_eq!(r.config.risk.policy(), RiskPolicy::Static);
    let m: Market = chain.zero_copy(&dep.market).unwrap();
    assert_eq!(m.liquidation, def.liquidation_config());

    let again = apply(
        &mut chain,
        &admin,
        Some(&market_kp),
        &def,
        &dep,
        PolicyChoice::Static,
    )
    .unwrap();
    assert_eq!(again.transactions, 0, "{again}");
    assert_eq!(again.unchanged_reserves, vec!["SOL", "USDC"]);
    assert!(again.to_string().contains("nothing to send"));

    // The same file under the dynamic policy: one byte of SOL's config.
    let dynamic = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert_eq!(dynamic.transactions, 1);
    assert_eq!(
        dynamic.updated_reserves,
        vec![("SOL".to_string(), vec!["risk.policy"])]
    );
    let r: Reserve = chain.zero_copy(&sol.keys.reserve).unwrap();
    assert_eq!(r.config.risk.policy(), RiskPolicy::Dynamic);

    // An edited file: the USDC threshold and the market's close factor.
    def.reserves[1].risk.liquidation_threshold_bps = 8_900;
    def.market.liquidation.close_factor_bps = 5_000;
    def.validate().unwrap();
    let edited = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert!(edited.updated_market && !edited.created_market);
    assert_eq!(
        edited.updated_reserves,
        vec![("USDC".to_string(), vec!["liquidation_threshold_bps"])]
    );
    assert_eq!(edited.transactions, 2);
    let m: Market = chain.zero_copy(&dep.market).unwrap();
    assert_eq!(m.liquidation.close_factor_bps, 5_000);
    let last = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert_eq!(last.transactions, 0);

    // An edited term section: one set_term_config, then nothing.
    def.reserves[1].term.as_mut().unwrap().penalty_spread_bps = 3_000;
    def.validate().unwrap();
    let term = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert_eq!(
        (term.transactions, term.term_updated.clone()),
        (1, vec!["USDC".to_string()])
    );
    assert!(term.to_string().contains("term config set USDC"), "{term}");
    let r: Reserve = chain.zero_copy(&usdc.keys.reserve).unwrap();
    assert_eq!(r.term_config.penalty_spread_bps, 3_000);
    let again = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert_eq!(again.transactions, 0, "{again}");
    // No section: term loans off on chain.
    def.reserves[1].term = None;
    let off = apply(&mut chain, &admin, None, &def, &dep, PolicyChoice::Dynamic).unwrap();
    assert_eq!(off.transactions, 1);
    let r: Reserve = chain.zero_copy(&usdc.keys.reserve).unwrap();
    assert!(!r.term_config.enabled());
}

#[test]
fn apply_refuses_a_market_it_cannot_create_or_does_not_administer() {
    let mut chain = EmbeddedChain::new(&EmbeddedChain::default_so_path()).unwrap();
    let admin = chain.payer.insecure_clone();
    let def = MarketDef::parse(REPLAY_SOL_USDC).unwrap();
    let market_kp = Keypair::new();
    let dep = provision_embedded(&mut chain, &def, market_kp.pubkey()).unwrap();
    let e = apply(
        &mut chain,
        &admin,
        None,
        &def,
        &dep,
        PolicyChoice::AsWritten,
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("no keypair"), "{e:#}");
    apply(
        &mut chain,
        &admin,
        Some(&market_kp),
        &def,
        &dep,
        PolicyChoice::AsWritten,
    )
    .unwrap();
    let stranger = Keypair::new();
    chain.airdrop(&stranger.pubkey(), 1_000_000_000).unwrap();
    let e = apply(
        &mut chain,
        &stranger,
        None,
        &def,
        &dep,
        PolicyChoice::AsWritten,
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("its admin is"), "{e:#}");
}
