//! routedesk's integration tests: one binary (fast to link), one module per capability.

mod cli;
mod corpus;
mod grouping;
mod incidents;
mod oauth2;
mod privacy;
mod reliability;
mod retention;
mod robustness;
mod security;
mod service;
mod support;
mod unattended;
mod vendor;
mod vendor_case;
mod web;
