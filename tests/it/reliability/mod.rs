//! Faults put into the real rig: SIGKILL in the middle of a backlog, a second instance, a mail
//! robot answering everything, every robot signal through a desk, a database that is locked or full, a connection cut mid-FETCH,
//! hostile mail and MIME limits with their CPU and memory measured, and the outbox at scale (an SMTP outage under a backlog, two instances' senders on
//! one queue). Nothing may be lost, nothing doubled.

mod backlog;
mod bounce;
mod contention;
mod crash;
mod faults;
mod flood;
mod hostile;
mod load;
mod lost_answer;
mod mime_limits;
mod other_client;
mod outbox_scale;
mod poison;
mod reconcile;
mod robots;
mod self_loop;
mod signals;
mod twice;
mod windows;
