//! Reading the data reports are made of (academic records; the outbox and
//! bookings are read by their report types directly, one query each).

pub mod academic;
