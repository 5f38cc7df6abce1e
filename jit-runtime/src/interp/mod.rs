//! The reference interpreter: runs any verified graph on host data. It is the oracle every backend is tested
//! against, so it favours clarity and exact semantics over speed.
