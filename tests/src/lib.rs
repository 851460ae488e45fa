pub mod apigw;
pub mod app;
pub mod aws_world;
pub mod browser;
pub mod calls;
pub mod moto;
pub mod stack;
pub mod store_contract;
