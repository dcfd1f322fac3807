//! The vendor case: the routine's second half, by mail on the rig and in the web view.

pub mod mail;
mod web;
