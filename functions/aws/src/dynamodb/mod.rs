//! The [`Store`](tempaccess_core::ports::Store) on one DynamoDB table.
//!
//! [`table`] is the layout (keys, indexes, TTL) as data and creates the table from it;
//! the item module turns domain values into items placed in that layout and back;
//! [`DynamoStore`] reads with GetItem and Query only, and writes every state change as
//! one conditional write or one transaction.

mod item;
mod read;
mod report;
mod store;
pub mod table;

pub use store::{DynamoStore, ReadBudget};
