//! routedesk: turns fault reports sent by e-mail into routed, tracked helpdesk tickets.

pub mod cli;
pub mod domain;
pub mod pipeline;
pub mod policy;
pub mod reply;
pub mod store;
pub mod text;
