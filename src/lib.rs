//! recvscope: TCP flow control on the wire next to what the application sees.

pub mod wire;

#[cfg(test)]
mod testkit;
