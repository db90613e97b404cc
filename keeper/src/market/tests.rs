//! Tests of market definitions: the shipped file, refused fields and
//! ranges, references, and what `apply` needs on a cluster.

use ballast::engine::risk::RiskPolicy;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::*;

fn replay_def() -> MarketDef {
    MarketDef::parse(REPLAY_SOL_USDC).expect("the shipped replay market parses")
}

fn err_of(text: &str) -> String {
    format!("{:#}", MarketDef::parse(text).unwrap_err())
}

#[test]
fn shipped_replay_market_expresses_both_policies() {
    let def = replay_def();
    let sol = def.reserve("SOL").unwrap();
    let s = sol.config([1; 32], PolicyChoice::Static).unwrap();
    assert_eq!(s.risk.policy(), RiskPolicy::Static);
    assert_eq!(
        (s.loan_to_value_bps, s.liquidation_threshold_bps),
        (7_500, 8_000)
    );
    let d = sol.config([1; 32], PolicyChoice::Dynamic).unwrap();
    assert_eq!(d.risk.policy(), RiskPolicy::Dynamic);
    assert_eq!(config_diff(&s, &d), vec!["risk.policy"]);
    // The stablecoin has no dynamic table: static under either choice.
    let usdc = def.reserve("USDC").unwrap();
    assert_eq!(usdc.policy(PolicyChoice::Dynamic), RiskPolicy::Static);
    assert_eq!(
        sol.config([1; 32], PolicyChoice::Static)
            .unwrap()
            .deposit_cap
            % 1_000_000_000,
        0
    );
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let text = REPLAY_SOL_USDC.replacen("[[reserves]]\n", "[[reserves]]\nmax_age = 60\n", 1);
    assert_ne!(text, REPLAY_SOL_USDC);
    let e = err_of(&text);
    assert!(e.contains("unknown field `max_age`"), "{e}");
    let text = REPLAY_SOL_USDC.replacen("[market]", "[market]\ncolour = \"red\"", 1);
    let e = err_of(&text);
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn out_of_range_bps_are_named() {
    let text = REPLAY_SOL_USDC.replacen("close_factor_bps = 2000", "close_factor_bps = 12000", 1);
    assert_ne!(text, REPLAY_SOL_USDC);
    let e = err_of(&text);
    assert!(
        e.contains("close_factor_bps = 12000 is outside 1..=10000"),
        "{e}"
    );

    let mut def = replay_def();
    def.reserves[0].risk.ltv_bps = def.reserves[0].risk.liquidation_threshold_bps;
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(
        e.contains("reserves[0] (SOL)") && e.contains("ltv_bps"),
        "{e}"
    );

    let mut def = replay_def();
    def.reserves[1].oracle_max_conf_bps = 0;
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(e.contains("oracle_max_conf_bps = 0"), "{e}");
}

#[test]
fn dynamic_curves_are_checked() {
    let mut def = replay_def();
    let d = def.reserves[0].risk.dynamic.as_mut().unwrap();
    d.initial.z_milli = d.maintenance.z_milli;
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(e.contains("stricter"), "{e}");

    let mut def = replay_def();
    def.reserves[0].risk.dynamic = None;
    def.reserves[0].risk.policy = PolicyName::Dynamic;
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(e.contains("needs a [reserves.risk.dynamic] table"), "{e}");
}

#[test]
fn addresses_and_feed_ids_are_parsed() {
    let mut def = replay_def();
    def.reserves[0].mint = "not-a-key".into();
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(e.contains("mint = \"not-a-key\""), "{e}");

    let mut def = replay_def();
    def.reserves[0].oracle = Keypair::new().pubkey().to_string();
    def.reserves[0].feed_id = None;
    let e = format!("{:#}", def.validate().unwrap_err());
    assert!(e.contains("needs its feed_id"), "{e}");
    def.reserves[0].feed_id = Some(format!("0x{}", "ab".repeat(32)));
    def.validate().unwrap();
    assert_eq!(def.reserves[0].feed_id_bytes().unwrap(), Some([0xab; 32]));
    def.reserves[0].feed_id = Some("abc".into());
    assert!(def.validate().is_err());
}

#[test]
fn create_is_refused_outside_the_embedded_chain() {
    let def = replay_def();
    let e = format!(
        "{:#}",
        resolve_existing(&def, Address::default()).unwrap_err()
    );
    assert!(e.contains("embedded chain only"), "{e}");
}

#[test]
fn an_oracle_that_is_not_the_push_feed_is_refused_before_sending() {
    let mut def = replay_def();
    for r in &mut def.reserves {
        r.mint = Keypair::new().pubkey().to_string();
        r.feed_id = Some(format!("0x{}", "ab".repeat(32)));
        r.oracle = Keypair::new().pubkey().to_string();
    }
    let e = format!(
        "{:#}",
        resolve_existing(&def, Address::default()).unwrap_err()
    );
    assert!(
        e.contains("not the Pyth push oracle's price feed account"),
        "{e}"
    );
    let push_feed = ballast::runtime::oracle_account::push_feed_address(&[0xab; 32]);
    for r in &mut def.reserves {
        r.oracle = push_feed.to_string();
    }
    let dep = resolve_existing(&def, Address::default()).unwrap();
    assert!(dep.reserves.iter().all(|r| r.keys.oracle == push_feed));
}

#[test]
fn duplicate_symbols_and_replay_names_are_checked() {
    let mut def = replay_def();
    def.reserves[1].symbol = def.reserves[0].symbol.clone();
    assert!(format!("{:#}", def.validate().unwrap_err()).contains("appears twice"));
    let mut def = replay_def();
    def.replay.as_mut().unwrap().debt = "DAI".into();
    assert!(format!("{:#}", def.validate().unwrap_err()).contains("names no reserve"));
}

#[test]
fn the_term_section_is_the_programs_term_config() {
    use ballast::engine::term::TermConfig;
    let def = replay_def();
    let usdc = def.reserve("USDC").unwrap().term_config().unwrap();
    assert_eq!(
        usdc,
        TermConfig {
            tenors_secs: [7 * 86_400, 28 * 86_400, 84 * 86_400],
            grid_secs: 7 * 86_400,
            base_spread_bps: 100,
            slope_bps: 1_000,
            max_commit_bps: 5_000,
            penalty_spread_bps: 2_000,
            _padding: [0; 8],
        }
    );
    usdc.validate().unwrap();
    // No section: term loans off.
    let sol = def.reserve("SOL").unwrap().term_config().unwrap();
    assert_eq!(sol, TermConfig::default());
    assert!(!sol.enabled());
    // Two tenors: the third slot unused.
    let mut def = replay_def();
    def.reserves[1].term.as_mut().unwrap().tenors_days = vec![7, 14];
    def.validate().unwrap();
    let c = def.reserves[1].term_config().unwrap();
    assert_eq!(c.tenors_secs, [7 * 86_400, 14 * 86_400, 0]);
    assert_eq!(c.tenor(1).unwrap(), 14 * 86_400);
}

#[test]
fn a_bad_term_section_is_refused_naming_the_field() {
    let cases: [(&str, &str); 7] = [
        (
            "tenors_days = [7, 28, 84]",
            "tenors_days = [7, 28, 84, 168]",
        ),
        ("tenors_days = [7, 28, 84]", "tenors_days = [7, 28, 91]"),
        ("tenors_days = [7, 28, 84]", "tenors_days = [28, 7]"),
        ("grid_days = 7", "grid_days = 31"),
        ("penalty_spread_bps = 2000", "penalty_spread_bps = 0"),
        ("max_commit_bps = 5000", "max_commit_bps = 0"),
        ("slope_bps = 1000", "slope_bps = 1000\nspread = 5"),
    ];
    let want = [
        "term.tenors_days has 4 tenors",
        "term.tenors_days[2] (at most 12 grid periods) = 91 is outside 1..=84 days",
        "term.tenors_days must be strictly ascending",
        "term.grid_days = 31 is outside 1..=30 days",
        "term.penalty_spread_bps = 0 is outside 1..=50000 bps",
        "term.max_commit_bps = 0 is outside 1..=10000 bps",
        "unknown field `spread`",
    ];
    for ((from, to), want) in cases.iter().zip(want) {
        let text = REPLAY_SOL_USDC.replacen(from, to, 1);
        assert_ne!(text, REPLAY_SOL_USDC, "{from}");
        let e = err_of(&text);
        assert!(e.contains(want), "{to}: {e}");
        if !want.starts_with("unknown") {
            assert!(e.contains("reserves[1] (USDC)"), "{e}");
        }
    }
}
