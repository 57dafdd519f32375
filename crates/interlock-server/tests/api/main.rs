//! HTTP tests against the real app on 127.0.0.1:0 with a temporary SQLite database and a
//! manual clock.

mod common;

mod access;
mod bad_input;
mod browser;
mod cards;
mod console_pages;
mod decisions;
mod fuzz;
mod login;
mod notifications;
mod plans;
mod proposals;
mod rules;
mod time_bombs;
mod webhooks;
