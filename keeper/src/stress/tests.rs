//! Tests of the stress engine: the closed-form check against Black-Scholes,
//! seeded determinism across thread counts, correlation stress and depth,
//! the price reader's line-numbered errors, the book from chain state.

use ballast::engine::fx::{Fx, WrappedFx};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::position::{Position, PositionKind};
use ballast::engine::risk::RiskParams;
use ballast::state::{Obligation, Reserve};
use bytemuck::Zeroable;
use solana_address::Address as Pubkey;

use super::book::{Asset, Book};
use super::greeks::{bs_put, greeks};
use super::prices::{load_history, PriceFile, PriceModel, ShockModel};
use super::report::{mean_se, Tail};
use super::run_paths;
use super::sim::{bounded_step, Policy, SimConfig};

fn asset(symbol: &str, price: f64, lt_bps: u16, depth: f64) -> Asset {
    Asset {
        symbol: symbol.into(),
        price,
        static_params: RiskParams {
            ltv_bps: lt_bps - 500,
            liquidation_threshold_bps: lt_bps,
            borrow_factor_bps: 10_000,
        },
        dynamic: None,
        depth_usd: depth,
    }
}

fn cfg(paths: usize, steps: usize, step_secs: i64, shocks: ShockModel) -> SimConfig {
    SimConfig {
        paths,
        steps,
        step_secs,
        seed: 7,
        shocks,
        corr_stress: 0.0,
        capacity_usd_per_step: 0.0,
        impact_k: 1.0,
        profit: None,
        record: false,
    }
}

/// One obligation, one asset, no liquidation (no capacity), GBM: the bad
/// debt at the horizon is `max(D - C S_T, 0)`, `C` times a put struck at
/// `D / C`. Its mean and its finite-difference delta, gamma and vega must
/// match Black-Scholes (zero rate) within 4 standard errors.
#[test]
fn expected_bad_debt_of_one_obligation_is_the_black_scholes_put() {
    let (s0, sigma, c, d) = (100.0, 0.8, 2.0, 190.0);
    let model = PriceModel::gaussian(&["X"], &[s0], &[sigma], &[1.0]);
    let book = Book {
        assets: vec![asset("X", s0, 8_000, 1e9)],
        collateral: vec![vec![c]],
        debt: vec![d],
        term_face: vec![0.0],
        term_maturity_secs: vec![0],
        term_penalty_bps: vec![0],
        liquidation: LiquidationConfig::SOLEND_LIKE,
        debt_deposits_usd: 1_000.0,
        stress_outflow_bps: 0,
    };
    let cfg = cfg(40_000, 7, 86_400, ShockModel::Gaussian);
    let t = 7.0 / 365.0;
    let (put, delta, gamma, vega) = bs_put(s0, d / c, sigma, t);
    let g = greeks(&book, &model, &cfg, Policy::Static);
    let within = |what: &str, mc: (f64, f64), bs: f64| {
        assert!(
            (mc.0 - bs).abs() < 4.0 * mc.1,
            "{what}: Monte Carlo {} (se {}) against Black-Scholes {bs}",
            mc.0,
            mc.1
        );
        assert!(
            mc.1 < 0.1 * bs.abs(),
            "{what}: se {} too wide for a check",
            mc.1
        );
    };
    within("value", g.expected_bad_debt, c * put);
    let a = &g.assets[0];
    within("delta", a.delta, c * delta);
    within("gamma", a.gamma, c * gamma);
    within("vega (per vol point)", a.vega, c * vega * 0.01);
    // A day less of horizon leaves the put less time: theta = V(T - 1 day)
    // - V(T) is negative.
    assert!(a.theta.0 < 0.0, "theta {:?}", a.theta);
    // The delta hedge holds `delta` units (short) and cuts the tail.
    assert!(a.hedge_units < 0.0);
    assert!(
        g.hedged.var99 < g.unhedged.var99,
        "{:?} vs {:?}",
        g.hedged,
        g.unhedged
    );
}

fn mixed_book(n: usize, depth: f64) -> Book {
    mixed_book_lt(n, depth, 8_000)
}

fn mixed_book_lt(n: usize, depth: f64, lt_bps: u16) -> Book {
    // Two assets at $100, every obligation holding one of each; debt at
    // 60-78% of the collateral (health 1.03-1.33 at LT 80%).
    let mut debt = Vec::new();
    for i in 0..n {
        debt.push(200.0 * (0.60 + 0.18 * i as f64 / n as f64));
    }
    Book {
        assets: vec![
            asset("A", 100.0, lt_bps, depth),
            asset("B", 100.0, lt_bps, depth),
        ],
        collateral: vec![vec![1.0; n], vec![1.0; n]],
        debt,
        term_face: vec![0.0; n],
        term_maturity_secs: vec![0; n],
        term_penalty_bps: vec![0; n],
        liquidation: LiquidationConfig::SOLEND_LIKE,
        debt_deposits_usd: 200.0 * n as f64,
        stress_outflow_bps: 2_000,
    }
}

fn fhs_model() -> PriceModel {
    let mut m = PriceModel::gaussian(
        &["A", "B"],
        &[100.0, 100.0],
        &[1.0, 1.2],
        &[1.0, 0.3, 0.3, 1.0],
    );
    // Residuals with a fat joint left tail: mostly small moves, a few joint
    // crashes; standardised by hand to mean 0 and unit variance per column.
    let raw: Vec<Vec<f64>> = (0..200)
        .map(|k| {
            let x = ((k * 37) % 101) as f64 / 50.0 - 1.0;
            let y = ((k * 53) % 97) as f64 / 48.0 - 1.0;
            if k % 50 == 0 {
                vec![-6.0, -5.0]
            } else {
                vec![x, y]
            }
        })
        .collect();
    let n = raw.len() as f64;
    let mut cols = [(0.0, 0.0); 2];
    for (j, col) in cols.iter_mut().enumerate() {
        let mean = raw.iter().map(|r| r[j]).sum::<f64>() / n;
        let var = raw.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n;
        *col = (mean, var.sqrt());
    }
    m.residuals = raw
        .iter()
        .map(|r| (0..2).map(|j| (r[j] - cols[j].0) / cols[j].1).collect())
        .collect();
    m
}

/// Two runs with the same seed are identical bit for bit, on one thread
/// and on three; another seed differs.
#[test]
fn seeded_runs_are_bit_for_bit_deterministic_across_thread_counts() {
    let book = mixed_book(300, 2_000.0);
    let model = fhs_model();
    let c = SimConfig {
        capacity_usd_per_step: 2_000.0,
        ..cfg(64, 48, 3_600, ShockModel::Fhs)
    };
    let on = |threads: usize, c: &SimConfig| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_paths(&book, &model, c, Policy::Static, None))
    };
    let a = on(1, &c);
    let b = on(3, &c);
    assert_eq!(a, b);
    let bits = |o: &[super::sim::PathOutcome]| -> Vec<u64> {
        o.iter()
            .flat_map(|p| [p.bad_debt.to_bits(), p.liquidated_debt.to_bits()])
            .collect()
    };
    assert_eq!(bits(&a), bits(&on(2, &c)));
    // Something happened (liquidations), and another seed is another run.
    assert!(a.iter().any(|p| p.liquidated_debt > 0.0));
    let other = on(
        2,
        &SimConfig {
            seed: 8,
            ..c.clone()
        },
    );
    assert_ne!(bits(&a), bits(&other));
}

fn var_at(book: &Book, model: &PriceModel, c: &SimConfig, x: f64) -> Tail {
    let o = run_paths(
        book,
        model,
        &SimConfig {
            corr_stress: x,
            ..c.clone()
        },
        Policy::Static,
        None,
    );
    Tail::of(&o.iter().map(|p| p.bad_debt).collect::<Vec<_>>())
}

/// On a book whose obligations all hold both assets, blending the
/// correlation toward one removes the diversification: VaR99 and ES99 of
/// bad debt do not fall as the stress grows, and rise from 0 to 1.
#[test]
fn correlation_stress_raises_var_on_a_mixed_book() {
    let book = mixed_book(200, 1e9);
    let model = PriceModel::gaussian(
        &["A", "B"],
        &[100.0, 100.0],
        &[1.5, 1.5],
        &[1.0, 0.0, 0.0, 1.0],
    );
    let c = SimConfig {
        capacity_usd_per_step: 1_000.0,
        ..cfg(3_000, 7, 86_400, ShockModel::Gaussian)
    };
    let tails: Vec<Tail> = [0.0, 0.5, 1.0]
        .iter()
        .map(|&x| var_at(&book, &model, &c, x))
        .collect();
    for w in tails.windows(2) {
        assert!(w[1].var99 >= w[0].var99, "VaR99 fell: {tails:?}");
        assert!(w[1].es99 >= w[0].es99, "ES99 fell: {tails:?}");
    }
    assert!(tails[2].es99 > 1.2 * tails[0].es99, "{tails:?}");
}

/// With thin depth the liquidators' sales push prices down into more
/// liquidations and bad debt (a cascade); twice the depth lowers the
/// expected bad debt and does not raise VaR99.
#[test]
fn doubling_depth_lowers_bad_debt() {
    let model = PriceModel::gaussian(
        &["A", "B"],
        &[100.0, 100.0],
        &[1.5, 1.5],
        &[1.0, 0.5, 0.5, 1.0],
    );
    let c = SimConfig {
        capacity_usd_per_step: 1e9,
        impact_k: 1.0,
        ..cfg(2_000, 14, 43_200, ShockModel::Gaussian)
    };
    // Liquidation threshold 95%: collateral covers the debt by 5% at
    // health 1, so a few percent of impact make obligations insolvent.
    let run = |depth: f64| {
        let o = run_paths(
            &mixed_book_lt(400, depth, 9_500),
            &model,
            &c,
            Policy::Static,
            None,
        );
        Tail::of(&o.iter().map(|p| p.bad_debt).collect::<Vec<_>>())
    };
    let (thin, deep) = (run(10_000.0), run(20_000.0));
    assert!(
        thin.mean > deep.mean + 2.0 * (thin.mean_se + deep.mean_se),
        "{thin:?} vs {deep:?}"
    );
    assert!(deep.var99 <= thin.var99, "{thin:?} vs {deep:?}");
}

/// A malformed row in a price file is reported with its line number and
/// the file's asset.
#[test]
fn a_bad_price_row_names_its_line() {
    let dir = std::env::temp_dir().join(format!("ballast-stress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.csv");
    std::fs::write(
        &path,
        "timestamp,open,high,low,close,volume\n\
         2020-01-01 00:00:00,1,1,1,1,1\n\
         2020-01-01 04:00:00,1,1,1,1,1\n\
         2020-01-01 08:00:00,1,1,1,oops,1\n",
    )
    .unwrap();
    let err = load_history(
        &[PriceFile {
            symbol: "SOL".into(),
            path: path.clone(),
            file_symbol: None,
        }],
        14_400,
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("line 4"), "{msg}");
    assert!(msg.contains("SOL prices from"), "{msg}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The EWMA fit recovers the volatility and correlation of returns drawn
/// with a known covariance, and its residuals are standardised.
#[test]
fn fit_recovers_a_known_covariance() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (s1, s2, rho) = (0.02, 0.01, 0.6);
    let mut p = [100.0f64, 50.0];
    let mut h = super::prices::History {
        symbols: vec!["A".into(), "B".into()],
        ts: Vec::new(),
        closes: Vec::new(),
        period_secs: 14_400,
    };
    for t in 0..3_000 {
        let (z1, z2) = super::prices::normal_pair(&mut rng);
        p[0] *= (s1 * z1).exp();
        p[1] *= (s2 * (rho * z1 + (1.0 - rho * rho).sqrt() * z2)).exp();
        h.ts.push(t * 14_400);
        h.closes.push(p.to_vec());
    }
    let m = PriceModel::fit(&h).unwrap();
    // EWMA at lambda 0.94 uses about 30 effective returns: within 40%.
    let per = |a: usize| m.cov[a * 2 + a].sqrt();
    assert!((per(0) / s1 - 1.0).abs() < 0.4, "{}", per(0));
    assert!((per(1) / s2 - 1.0).abs() < 0.4, "{}", per(1));
    let e = &m.residuals;
    let (m0, _) = mean_se(&e.iter().map(|v| v[0]).collect::<Vec<_>>());
    let c01 = e.iter().map(|v| v[0] * v[1]).sum::<f64>() / e.len() as f64;
    let v1 = e.iter().map(|v| v[1] * v[1]).sum::<f64>() / e.len() as f64;
    assert!(m0.abs() < 1e-9 && c01.abs() < 1e-9 && (v1 - 1.0).abs() < 1e-9);
}

/// The dynamic parameters move by at most the configured steps and are
/// accepted by the program's own step check.
#[test]
fn bounded_step_respects_the_program_steps() {
    let cfg = ballast::fixtures::sol_risk();
    let old = RiskParams {
        ltv_bps: 7_000,
        liquidation_threshold_bps: 8_000,
        borrow_factor_bps: 10_000,
    };
    let far = RiskParams {
        ltv_bps: 4_000,
        liquidation_threshold_bps: 5_000,
        borrow_factor_bps: 14_000,
    };
    let s = bounded_step(&cfg, old, far);
    assert_eq!(s.liquidation_threshold_bps, 8_000 - cfg.max_lt_step_bps);
    assert_eq!(s.borrow_factor_bps, 10_000 + cfg.max_lt_step_bps as u32);
    assert!(s.ltv_bps <= s.liquidation_threshold_bps);
    assert!(cfg.step(old, s).is_ok());
}

fn reserve(decimals: u8, deposit_shares: u64, available: u64, borrow_shares: f64) -> Reserve {
    let mut r = Reserve::zeroed();
    r.mint_decimals = decimals;
    r.deposit_shares = deposit_shares;
    r.available_amount = available;
    r.borrow_shares = WrappedFx::new(Fx::from_num(borrow_shares));
    r.borrow_index = WrappedFx::new(Fx::ONE);
    r.config = ballast::fixtures::reserve_config([0; 32]);
    r.config.liquidity.stress_outflow_bps = 2_000;
    r
}

/// A book built from decoded accounts: collateral tokens from deposit
/// shares, debt from borrow shares, at the reserves' parameters and the
/// given prices; a reserve without a price is refused by name.
#[test]
fn book_from_chain_reads_positions() {
    let (sol, usdc) = (
        Pubkey::new_from_array([1; 32]),
        Pubkey::new_from_array([2; 32]),
    );
    // SOL: 10 tokens of supply for 5e9 shares (2 tokens per 1e9 shares).
    let r_sol = reserve(9, 5_000_000_000, 10_000_000_000, 0.0);
    // USDC: $1,000 lent out of $4,000 of supply.
    let r_usdc = reserve(6, 4_000_000_000, 3_000_000_000, 1_000_000_000.0);
    let mut o = Obligation::zeroed();
    o.positions[0] = Position {
        reserve: sol,
        kind: PositionKind::Collateral as u8,
        deposit_shares: 1_000_000_000,
        ..Position::zeroed()
    };
    o.positions[1] = Position {
        reserve: usdc,
        kind: PositionKind::Debt as u8,
        borrow_shares: WrappedFx::new(Fx::from_num(250_000_000)),
        ..Position::zeroed()
    };
    let reserves = [(sol, r_sol), (usdc, r_usdc)];
    let obligations = [(Pubkey::new_from_array([9; 32]), o)];
    let prices = [(sol, 150.0), (usdc, 1.0)];
    let b = Book::from_chain(
        &reserves,
        &obligations,
        &prices,
        LiquidationConfig::SOLEND_LIKE,
        1e8,
    )
    .unwrap();
    assert_eq!(b.assets.len(), 1);
    assert_eq!(b.assets[0].symbol, sol.to_string());
    assert_eq!(b.assets[0].static_params.liquidation_threshold_bps, 8_000);
    assert!(
        (b.collateral[0][0] - 2.0).abs() < 1e-9,
        "{}",
        b.collateral[0][0]
    );
    assert!((b.debt[0] - 250.0).abs() < 1e-6, "{}", b.debt[0]);
    assert!((b.debt_deposits_usd - 4_000.0).abs() < 1e-6);
    assert_eq!(b.stress_outflow_bps, 2_000);
    // Health 2 * 150 * 0.8 / 250 = 0.96: liquidatable at the first step.
    let model = PriceModel::gaussian(&["SOL"], &[150.0], &[0.01], &[1.0]);
    let c = SimConfig {
        capacity_usd_per_step: 1e6,
        ..cfg(4, 2, 3_600, ShockModel::Gaussian)
    };
    let o = run_paths(&b, &model, &c, Policy::Static, None);
    assert!(
        o.iter()
            .all(|p| p.liquidated_debt > 0.0 && p.bad_debt == 0.0),
        "{o:?}"
    );
    let err = Book::from_chain(
        &reserves,
        &obligations,
        &prices[1..],
        LiquidationConfig::SOLEND_LIKE,
        1e8,
    )
    .unwrap_err();
    assert!(err.to_string().contains(&sol.to_string()), "{err}");
}

/// A supplier (collateral, no debt) is not in the book: it cannot leave bad
/// debt, and its collateral reserve (here USDC, which a price model of
/// volatile assets does not have, and here without a price at all) must
/// not become an asset the model is asked to move. Before, the supplier's
/// USDC made `stress --market` fail on any market with suppliers.
#[test]
fn book_from_chain_leaves_out_obligations_without_debt() {
    let (sol, usdc) = (
        Pubkey::new_from_array([1; 32]),
        Pubkey::new_from_array([2; 32]),
    );
    let r_sol = reserve(9, 5_000_000_000, 10_000_000_000, 0.0);
    let r_usdc = reserve(6, 4_000_000_000, 3_000_000_000, 1_000_000_000.0);
    let mut borrower = Obligation::zeroed();
    borrower.positions[0] = Position {
        reserve: sol,
        kind: PositionKind::Collateral as u8,
        deposit_shares: 1_000_000_000,
        ..Position::zeroed()
    };
    borrower.positions[1] = Position {
        reserve: usdc,
        kind: PositionKind::Debt as u8,
        borrow_shares: WrappedFx::new(Fx::from_num(250_000_000)),
        ..Position::zeroed()
    };
    let mut supplier = Obligation::zeroed();
    supplier.positions[0] = Position {
        reserve: usdc,
        kind: PositionKind::Collateral as u8,
        deposit_shares: 3_000_000_000,
        ..Position::zeroed()
    };
    let reserves = [(sol, r_sol), (usdc, r_usdc)];
    let obligations = [
        (Pubkey::new_from_array([8; 32]), supplier),
        (Pubkey::new_from_array([9; 32]), borrower),
    ];
    // No USDC price: only the debt's valuation would need it, and the
    // borrower's debt does. Give it, then check the supplier's absence.
    let b = Book::from_chain(
        &reserves,
        &obligations,
        &[(sol, 150.0), (usdc, 1.0)],
        LiquidationConfig::SOLEND_LIKE,
        1e8,
    )
    .unwrap();
    assert_eq!(b.len(), 1, "only the borrower");
    assert_eq!(b.assets.len(), 1, "SOL only");
    assert_eq!(b.assets[0].symbol, sol.to_string());
    assert!((b.debt[0] - 250.0).abs() < 1e-6, "{}", b.debt[0]);
    assert!((b.collateral[0][0] - 2.0).abs() < 1e-9);
    // Suppliers alone: no borrower, nothing to stress.
    let err = Book::from_chain(
        &reserves,
        &obligations[..1],
        &[(sol, 150.0), (usdc, 1.0)],
        LiquidationConfig::SOLEND_LIKE,
        1e8,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no obligation"), "{err}");
}

/// The worst window of a series is its planted crash, with the window's
/// returns.
#[test]
fn worst_window_finds_the_planted_crash() {
    let mut h = super::prices::History {
        symbols: vec!["A".into()],
        ts: (0..400).map(|t| t * 14_400).collect(),
        closes: (0..400)
            .map(|t| vec![if (200..210).contains(&t) { 50.0 } else { 100.0 }])
            .collect(),
        period_secs: 14_400,
    };
    h.closes[199][0] = 100.0;
    let w = super::scenarios::worst_windows(&h, 1);
    assert_eq!(w.len(), 1);
    assert!((w[0].moves[0] + 0.5).abs() < 1e-12, "{:?}", w[0].moves);
    assert_eq!(w[0].returns.len(), 6);
}

/// The shipped definition validates; a `[stress]` asset naming no
/// reserve is refused by name.
#[test]
fn shipped_stress_definition_validates() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let def = crate::market::MarketDef::load(&path).unwrap();
    let st = def.stress.unwrap();
    assert_eq!(st.debt, "USDC");
    assert_eq!(st.assets.len(), 2);
    // A [stress] section naming an unknown reserve is refused.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("symbol = \"BTC\"\nprices", "symbol = \"ETH\"\nprices");
    let err = crate::market::MarketDef::parse(&text).unwrap_err();
    assert!(format!("{err:#}").contains("ETH"), "{err:#}");
}

/// Bad `[stress]` values are refused naming the field.
#[test]
fn bad_stress_sections_are_refused_by_field() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    for (from, to, expect) in [
        ("depth_usd = 300000000.0", "depth_usd = 0.0", "depth_usd"),
        ("borrowers = 10000", "borrowers = 0", "borrowers"),
        (
            "single_collateral_share = 0.5",
            "single_collateral_share = 1.5",
            "single_collateral_share",
        ),
        (
            "debt = \"USDC\"\ndebt_price",
            "debt = \"SOL\"\ndebt_price",
            "debt asset",
        ),
        (
            "liquidator_capacity_usd_per_hour = 1000000.0",
            "liquidator_capacity_usd_per_hour = -1.0",
            "liquidator_capacity",
        ),
        (
            "estimation_period_secs = 14400",
            "estimation_period_secs = 0",
            "estimation_period_secs",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let err = crate::market::MarketDef::parse(&text.replacen(from, to, 1)).unwrap_err();
        assert!(format!("{err:#}").contains(expect), "{to}: {err:#}");
    }
}

#[test]
fn a_book_aligns_to_the_model_order_and_names_what_it_cannot_map() {
    // A book read from chain: assets named by reserve address, in key order.
    let mut b = mixed_book(3, 1e8);
    b.assets[0].symbol = "ReserveB".into();
    b.assets[1].symbol = "ReserveA".into();
    b.assets[0].price = 50.0;
    b.collateral[0] = vec![2.0, 3.0, 4.0];
    let symbols = vec!["SOL".to_string(), "BTC".to_string(), "ETH".to_string()];
    let s0 = [150.0, 60_000.0, 3_000.0];
    let mapping = vec![
        ("ReserveA".to_string(), "SOL".to_string()),
        ("ReserveB".to_string(), "BTC".to_string()),
    ];
    let fallback = b.assets[0].clone();
    let a = b.aligned(&symbols, &s0, &mapping, &fallback).unwrap();
    assert_eq!(
        a.assets
            .iter()
            .map(|x| x.symbol.as_str())
            .collect::<Vec<_>>(),
        ["SOL", "BTC", "ETH"]
    );
    // SOL is the book's second asset, BTC its first; ETH is held by nobody.
    assert_eq!(a.collateral[0], b.collateral[1]);
    assert_eq!(a.collateral[1], b.collateral[0]);
    assert_eq!(a.assets[0].price, b.assets[1].price);
    assert!(a.collateral[2].iter().all(|&t| t == 0.0));
    assert_eq!(a.assets[2].price, 3_000.0);
    assert_eq!(a.debt, b.debt);
    // Every obligation's collateral value is the same at the same prices.
    let pb: Vec<f64> = b.assets.iter().map(|x| x.price).collect();
    let pa: Vec<f64> = a.assets.iter().map(|x| x.price).collect();
    for i in 0..b.len() {
        assert_eq!(a.collateral_value(i, &pa), b.collateral_value(i, &pb));
    }

    let e = b
        .aligned(&symbols, &s0, &mapping[..1], &fallback)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ReserveB") && e.contains("--asset"), "{e}");
    let bad = vec![
        ("ReserveA".to_string(), "SOL".to_string()),
        ("ReserveB".to_string(), "DOGE".to_string()),
    ];
    let e = b
        .aligned(&symbols, &s0, &bad, &fallback)
        .unwrap_err()
        .to_string();
    assert!(e.contains("DOGE") && e.contains("does not have"), "{e}");
    let twice = vec![
        ("ReserveA".to_string(), "SOL".to_string()),
        ("ReserveB".to_string(), "SOL".to_string()),
    ];
    let e = b
        .aligned(&symbols, &s0, &twice, &fallback)
        .unwrap_err()
        .to_string();
    assert!(e.contains("all mapped to SOL"), "{e}");
}

/// The liquidator model moved to [`crate::liquidators`]: without a
/// profitability rule, and with a rule of zero fixed cost and zero minimum
/// profit, every path's outcome is bit for bit the one the code before the
/// move computes ([`super::legacy_sim`], run here on the same shocks): on
/// a thin-depth cascade book with a binding capacity and with an unbounded
/// one, and on the shipped two-asset definition under both policies.
#[test]
fn the_shared_liquidator_model_changes_no_result() {
    use super::legacy_sim;
    use super::sim::{buckets, run_path};
    use crate::liquidators::ProfitRule;
    use rand::SeedableRng;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let def = crate::market::MarketDef::load(&path).unwrap();
    let shipped = Book::synthetic(&def, &[20.0, 30_000.0], &[1.2, 0.9], Some(300)).unwrap();
    let two = PriceModel::gaussian(
        &["A", "B"],
        &[100.0, 100.0],
        &[1.5, 1.5],
        &[1.0, 0.5, 0.5, 1.0],
    );
    let shipped_model = PriceModel::gaussian(
        &["SOL", "BTC"],
        &[20.0, 30_000.0],
        &[2.5, 2.0],
        &[1.0, 0.7, 0.7, 1.0],
    );
    let cases: Vec<(&str, Book, &PriceModel, f64, Policy)> = vec![
        (
            "thin, capacity binds",
            mixed_book_lt(300, 10_000.0, 9_500),
            &two,
            2_000.0,
            Policy::Static,
        ),
        (
            "thin, unbounded",
            mixed_book_lt(300, 10_000.0, 9_500),
            &two,
            1e9,
            Policy::Static,
        ),
        (
            "shipped static",
            shipped.clone(),
            &shipped_model,
            2e5,
            Policy::Static,
        ),
        (
            "shipped dynamic",
            shipped,
            &shipped_model,
            2e5,
            Policy::Dynamic,
        ),
    ];
    let zero = ProfitRule {
        fixed_cost_usd: 0.0,
        min_profit_usd: 0.0,
    };
    let mut liquidated = 0.0;
    for (name, book, model, cap, policy) in cases {
        let bucket = buckets(&book);
        for profit in [None, Some(zero)] {
            let c = SimConfig {
                capacity_usd_per_step: cap,
                profit,
                ..cfg(40, 24, 3_600, ShockModel::Gaussian)
            };
            for p in 0..c.paths as u64 {
                let now = run_path(&book, &bucket, model, &c, policy, p);
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(c.seed);
                rng.set_stream(p);
                let before = legacy_sim::simulate(&book, &bucket, model, &c, policy, |pp| {
                    pp.next(model, &mut rng)
                });
                assert_eq!(now, before, "{name}, {profit:?}, path {p}");
                liquidated += now.liquidated_debt;
            }
        }
    }
    // The comparison is not vacuous: liquidations happened.
    assert!(liquidated > 0.0);
}

/// One obligation of `c` tokens at $100 (LT 80%) owing `d` USD, floating
/// or as a term loan of face `d` maturing at `maturity` (seconds from the
/// start) with a 20% penalty.
fn one(c: f64, d: f64, term: Option<i64>) -> Book {
    let (debt, face, maturity, penalty) = match term {
        None => (d, 0.0, 0, 0),
        Some(m) => (0.0, d, m, 2_000),
    };
    Book {
        assets: vec![asset("X", 100.0, 8_000, 1e9)],
        collateral: vec![vec![c]],
        debt: vec![debt],
        term_face: vec![face],
        term_maturity_secs: vec![maturity],
        term_penalty_bps: vec![penalty],
        liquidation: LiquidationConfig::SOLEND_LIKE,
        debt_deposits_usd: 10_000.0,
        stress_outflow_bps: 2_000,
    }
}

/// A term-only obligation whose loan matures after the horizon is, for the
/// simulation, its floating twin with the face in place of the debt (health
/// values term debt at its face; the liquidation converts it to floating
/// debt of the face first): on a scripted crash with liquidators and one
/// without, bad debt, debt liquidated and bonus are the twin's to the bit,
/// and the face is reported converted. Past maturity the loan owes the
/// penalty: the same crash held 30 days after a maturity at the start
/// leaves more bad debt than the twin, by the program's `owed` growth.
#[test]
fn a_term_only_obligation_is_its_floating_twin_with_the_face() {
    use super::sim::{run_scripted, term_owed};
    let model = PriceModel::gaussian(&["X"], &[100.0], &[0.8], &[1.0]);
    // A gap from 100 to 60 in the first hourly step, then flat: health 2 *
    // 60 * 0.8 / 150 = 0.64 and collateral $120 < $150 of debt: insolvent.
    let mut crash: Vec<Vec<f64>> = vec![vec![(0.6f64).ln()]];
    crash.extend((0..11).map(|_| vec![0.0]));
    for capacity in [0.0, 40.0, 1e9] {
        let c = SimConfig {
            capacity_usd_per_step: capacity,
            ..cfg(1, 12, 3_600, ShockModel::Gaussian)
        };
        let twin = run_scripted(&one(2.0, 150.0, None), &model, &c, Policy::Static, &crash);
        let term = run_scripted(
            &one(2.0, 150.0, Some(30 * 86_400)),
            &model,
            &c,
            Policy::Static,
            &crash,
        );
        assert!(twin.bad_debt > 0.0, "{twin:?}");
        assert_eq!(term.bad_debt, twin.bad_debt, "capacity {capacity}");
        assert_eq!(term.liquidated_debt, twin.liquidated_debt);
        assert_eq!(term.bonus_paid, twin.bonus_paid);
        assert_eq!(term.terminal_debt, twin.terminal_debt);
        if capacity > 0.0 {
            assert!(twin.liquidated_debt > 0.0);
            assert_eq!(term.term_converted_face, 150.0);
            assert_eq!(term.term_converted_debt, 150.0);
        } else {
            // Nobody liquidates: never converted, counted at its face.
            assert_eq!(term.term_converted_face, 0.0);
        }
    }
    // Matured at the start, 30 days of hourly steps, no liquidator: the
    // loan owes face * exp(0.2 * 30 / 365) at the horizon, as the program's
    // `owed` computes it; the twin owes 150.
    let steps = 30 * 24;
    let flat: Vec<Vec<f64>> = (0..steps)
        .map(|k| vec![if k == 0 { (0.6f64).ln() } else { 0.0 }])
        .collect();
    let c = cfg(1, steps, 3_600, ShockModel::Gaussian);
    let twin = run_scripted(&one(2.0, 150.0, None), &model, &c, Policy::Static, &flat);
    let late = run_scripted(&one(2.0, 150.0, Some(0)), &model, &c, Policy::Static, &flat);
    let owed = term_owed(150.0, 0, 2_000, steps as i64 * 3_600);
    let program = ballast::engine::term::owed(150_000_000, 0, 2_000, steps as i64 * 3_600)
        .unwrap()
        .to_num::<f64>()
        / 1e6;
    assert!((owed - program).abs() < 1e-6, "{owed} vs {program}");
    assert!((owed - 150.0 * (0.2f64 * 30.0 / 365.0).exp()).abs() < 1e-6);
    assert!((late.bad_debt - twin.bad_debt - (owed - 150.0)).abs() < 1e-9);
    assert!((late.terminal_debt - owed).abs() < 1e-9);
}

/// `term_share`: the same obligations and amounts as the floating-only
/// book (the term draws have their own stream), a share of them at term
/// (face = their floating debt, maturity on the grid within one tenor of
/// the start, the reserve's penalty), deterministic in the seed; and the
/// run of a book with term loans is bit for bit the same across thread
/// counts.
#[test]
fn a_term_share_moves_debt_to_term_loans_deterministically() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let mut def = crate::market::MarketDef::load(&path).unwrap();
    let floating = Book::synthetic(&def, &[20.0, 30_000.0], &[1.2, 0.9], Some(2_000)).unwrap();
    assert_eq!(floating.term_face_usd(), 0.0);
    def.stress.as_mut().unwrap().term_share = 0.3;
    def.validate().unwrap();
    let term = Book::synthetic(&def, &[20.0, 30_000.0], &[1.2, 0.9], Some(2_000)).unwrap();
    assert_eq!(
        term,
        Book::synthetic(&def, &[20.0, 30_000.0], &[1.2, 0.9], Some(2_000)).unwrap()
    );
    assert_eq!(term.collateral, floating.collateral);
    let cfg_t = def.reserve("USDC").unwrap().term_config().unwrap();
    let grid = cfg_t.grid_secs as i64;
    let mut phase = None;
    let mut n_term = 0;
    for i in 0..term.len() {
        assert_eq!(term.debt_at_start(i), floating.debt[i]);
        if term.term_face[i] > 0.0 {
            n_term += 1;
            assert_eq!(term.debt[i], 0.0);
            assert_eq!(term.term_face[i], floating.debt[i]);
            let m = term.term_maturity_secs[i];
            assert!(m > 0 && m <= (84 + 7) * 86_400, "{m}");
            // Every maturity on the same calendar grid.
            assert_eq!(*phase.get_or_insert(m.rem_euclid(grid)), m.rem_euclid(grid));
            assert_eq!(term.term_penalty_bps[i], 2_000);
        }
    }
    let share = n_term as f64 / term.len() as f64;
    assert!((share - 0.3).abs() < 0.04, "{share}");
    // A share without a term section is refused, naming it.
    let mut bare = def.clone();
    bare.reserves.iter_mut().for_each(|r| r.term = None);
    let e = format!("{:#}", bare.validate().unwrap_err());
    assert!(e.contains("term_share 0.3 needs a [reserves.term]"), "{e}");

    let model = PriceModel::gaussian(
        &["SOL", "BTC"],
        &[20.0, 30_000.0],
        &[2.5, 2.0],
        &[1.0, 0.7, 0.7, 1.0],
    );
    let c = SimConfig {
        capacity_usd_per_step: 2e5,
        ..cfg(16, 7 * 24, 3_600, ShockModel::Gaussian)
    };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| run_paths(&term, &model, &c, Policy::Dynamic, None));
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(|| run_paths(&term, &model, &c, Policy::Dynamic, None));
    assert_eq!(one_thread, many);
    assert!(one_thread.iter().any(|o| o.term_converted_face > 0.0));
    // The week's horizon passes the shortest tenor's maturity.
    assert!(
        (0..term.len()).any(|i| term.term_face[i] > 0.0 && term.term_maturity_secs[i] < 7 * 86_400),
        "phase {phase:?}"
    );
}

/// A term-only borrower is in the book read from chain, at its face, and
/// its reserve's supply counts among the debt deposits. Before, the book
/// kept it (it has debt) but valued its debt at 0 and left its reserve out.
#[test]
fn book_from_chain_reads_term_loans() {
    use ballast::engine::position::TermLoan;
    let (sol, usdc) = (
        Pubkey::new_from_array([1; 32]),
        Pubkey::new_from_array([2; 32]),
    );
    let r_sol = reserve(9, 5_000_000_000, 10_000_000_000, 0.0);
    let mut r_usdc = reserve(6, 4_000_000_000, 3_000_000_000, 0.0);
    r_usdc.last_update_ts = 1_000_000;
    r_usdc.term.last_update_ts = 1_000_000;
    r_usdc
        .term
        .add_loan(1_000_000 + 14 * 86_400, 250_000_000, 245_000_000)
        .unwrap();
    let mut o = Obligation::zeroed();
    o.positions[0] = Position {
        reserve: sol,
        kind: PositionKind::Collateral as u8,
        deposit_shares: 1_000_000_000,
        ..Position::zeroed()
    };
    let mut t = Position {
        reserve: usdc,
        kind: PositionKind::TermDebt as u8,
        ..Position::zeroed()
    };
    t.set_term(&TermLoan {
        face: 250_000_000,
        maturity: 1_000_000 + 14 * 86_400,
        open_ts: 1_000_000 - 86_400,
        principal: 245_000_000,
        rate_micro: 50_000,
        penalty_bps: 2_000,
    });
    o.positions[1] = t;
    let b = Book::from_chain(
        &[(sol, r_sol), (usdc, r_usdc)],
        &[(Pubkey::new_from_array([9; 32]), o)],
        &[(sol, 150.0), (usdc, 1.0)],
        LiquidationConfig::SOLEND_LIKE,
        1e8,
    )
    .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b.debt[0], 0.0);
    assert!((b.term_face[0] - 250.0).abs() < 1e-9, "{}", b.term_face[0]);
    assert_eq!(b.term_maturity_secs[0], 14 * 86_400);
    assert_eq!(b.term_penalty_bps[0], 2_000);
    assert!((b.debt_at_start(0) - 250.0).abs() < 1e-9);
    // The USDC supply: $3,000 available plus the term book ($245 lent).
    assert!(
        (b.debt_deposits_usd - 3_245.0).abs() < 1e-6,
        "{}",
        b.debt_deposits_usd
    );
    // Health 2 * 150 * 0.8 / 250 = 0.96: liquidated at the first step,
    // its term loan converted first.
    let model = PriceModel::gaussian(&["SOL"], &[150.0], &[0.01], &[1.0]);
    let c = SimConfig {
        capacity_usd_per_step: 1e6,
        ..cfg(4, 2, 3_600, ShockModel::Gaussian)
    };
    let o = run_paths(&b, &model, &c, Policy::Static, None);
    assert!(
        o.iter().all(|p| p.liquidated_debt > 0.0
            && p.bad_debt == 0.0
            && (p.term_converted_face - 250.0).abs() < 1e-9),
        "{o:?}"
    );
}
