//! `cargo run -p xtask -- idl [OUT]`: builds the program's IDL with the
//! host-side `idl-build` feature through `anchor-lang-idl`'s `IdlBuilder` (the
//! same code `anchor build` runs) and writes it to `OUT` (default
//! `target/idl/ballast.json`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("idl") => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let out = args
                .next()
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target/idl/ballast.json"));
            idl(&root, &out)
        }
        _ => bail!("usage: cargo run -p xtask -- idl [OUT]"),
    }
}

fn idl(root: &Path, out: &Path) -> Result<()> {
    // IdlBuilder runs `cargo test --features idl-build` with its own RUSTFLAGS;
    // a separate target dir keeps it from invalidating the main build cache.
    // It would also pass a literal `+{toolchain}` if RUSTUP_TOOLCHAIN is set.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let target_dir = root.join("target/idl-build");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(root.join("programs/ballast"))
        .cargo_args(vec![
            "--target-dir".into(),
            target_dir.display().to_string(),
        ])
        .build()
        .context("building the IDL (cargo test --features idl-build)")?;
    let undocumented = undocumented_accounts(&idl);
    if !undocumented.is_empty() {
        bail!(
            "accounts without docs in the IDL (anchor's IDL builder drops `/// CHECK:` \
             lines: put the description on a line of its own above it): {}",
            undocumented.join(", ")
        );
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&idl)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "[idl] wrote {} ({} instructions, {} accounts, {} events, {} errors)",
        out.display(),
        idl.instructions.len(),
        idl.accounts.len(),
        idl.events.len(),
        idl.errors.len()
    );
    Ok(())
}

/// `instruction.account` for every instruction account the IDL carries no
/// docs for: an integrator reading the IDL (or the client Codama generates
/// from it) must learn what each account is and how it is checked.
fn undocumented_accounts(idl: &anchor_lang_idl::types::Idl) -> Vec<String> {
    use anchor_lang_idl::types::IdlInstructionAccountItem as Item;
    fn walk(ix: &str, items: &[Item], out: &mut Vec<String>) {
        for item in items {
            match item {
                Item::Single(a) if a.docs.iter().all(|d| d.trim().is_empty()) => {
                    out.push(format!("{ix}.{}", a.name))
                }
                Item::Single(_) => {}
                Item::Composite(c) => walk(ix, &c.accounts, out),
            }
        }
    }
    let mut out = Vec::new();
    for ix in &idl.instructions {
        walk(&ix.name, &ix.accounts, &mut out);
    }
    out
}
