//! Outsiders' mail is hostile input: it must not make the helpdesk write to anyone who did not
//! write to us, nor reach into tickets that are not theirs. On the real rig, on both databases.

mod addressed;
mod joining;
mod replies;
mod unauthenticated;
