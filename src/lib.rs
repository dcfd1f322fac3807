//! routedesk: turns fault reports sent by e-mail into routed, tracked helpdesk tickets.

pub mod alerts;
pub mod cli;
pub mod config;
pub mod desk;
pub mod domain;
pub mod faults;
pub mod grouping;
pub mod http;
pub mod intake;
pub mod outbox;
pub mod pipeline;
pub mod policy;
pub mod reply;
pub mod retention;
pub mod secret;
pub mod service;
pub mod store;
pub mod text;
pub mod tls;
pub mod tokens;
pub mod vendor;
pub mod web;
