pub mod app;
pub mod moto;
pub mod store_contract;
