//! Instruction builders, one per Ballast instruction, made from the program
//! crate's own `accounts::` and `instruction::` types (never hand-written
//! discriminators), so that a layout change in the program is a compile
//! error here.

use anchor_lang::{InstructionData, ToAccountMetas};
use ballast::instructions::InitMarketParams;
use solana_address::Address;
use solana_instruction::Instruction;

/// Builds an [`Instruction`] for the Ballast program from its Anchor
/// account struct and instruction data.
pub fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: ballast::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// The market authority PDA `[MARKET_AUTHORITY_SEED, market]` and its bump.
pub fn market_authority(market: &Address) -> (Address, u8) {
    Address::find_program_address(
        &[ballast::state::MARKET_AUTHORITY_SEED, market.as_ref()],
        &ballast::ID,
    )
}

/// `init_market`: `admin` signs and pays; `market` is a fresh keypair that
/// signs too.
pub fn init_market(admin: &Address, market: &Address, params: InitMarketParams) -> Instruction {
    build(
        ballast::accounts::InitMarket {
            admin: *admin,
            market: *market,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitMarket { params },
    )
}
