//! The tempaccess site: Yew function components over the API's shared wire types
//! (`tempaccess_core::wire`), built with trunk and served beside the API.
//!
//! - [`app`] loads `config.json`, holds the session and renders the [`route`] map.
//! - [`api`] is the one typed client of `/v1`; [`hooks`] wrap it for components.
//! - [`form`], [`decision`], [`report`] and [`time`] hold the pages' rules as plain
//!   functions, so they are tested without a browser.

pub mod api;
pub mod app;
pub mod auth;
pub mod case;
pub mod components;
pub mod config;
pub mod decision;
pub mod form;
pub mod hooks;
pub mod labels;
pub mod pages;
pub mod report;
pub mod route;
pub mod time;
