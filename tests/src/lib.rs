pub mod app;
pub mod store_contract;
