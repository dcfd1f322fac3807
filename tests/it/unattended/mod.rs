//! Left alone for months: an idle instance is idle, every network wait has a deadline, and a
//! connection gone silent is noticed and replaced.

mod alerts;
mod idle;
mod refresh;
mod stall;
mod transient;
