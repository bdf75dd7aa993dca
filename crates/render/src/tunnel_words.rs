//! The words for encapsulations: the layers of a connection's tunnel, and
//! the kinds recvscope recognises without decoding.

use recvscope_wire::{Layer, Tunnel, Undecoded};

/// A layer as the protocols name themselves.
pub(crate) fn layer(l: Layer) -> &'static str {
    match l {
        Layer::Pppoe => "PPPoE",
        Layer::Mpls => "MPLS",
        Layer::Gre => "GRE",
        Layer::Ip4In4 => "IPv4 in IPv4",
        Layer::Ip6In4 => "IPv6 in IPv4",
        Layer::Ip4In6 => "IPv4 in IPv6",
        Layer::Ip6In6 => "IPv6 in IPv6",
        Layer::Vxlan => "VXLAN",
        Layer::Geneve => "GENEVE",
        Layer::GtpU => "GTP-U",
    }
}

/// A tunnel's layers, outermost first.
pub(crate) fn tunnel(t: &Tunnel) -> String {
    let layers: Vec<&str> = t.layers().map(layer).collect();
    layers.join(", then ")
}

/// An encapsulation recognised but not decoded.
pub(crate) fn undecoded(u: Undecoded) -> &'static str {
    match u {
        Undecoded::L2tp => "L2TP",
        Undecoded::Gre => "GRE of another version or protocol",
        Undecoded::Mpls => "MPLS over something other than IP",
        Undecoded::TooDeep => "more than 4 layers of encapsulation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tunnel_reads_outermost_first() {
        let t = Tunnel::default()
            .inside(Layer::Vxlan)
            .and_then(|t| t.inside(Layer::Ip6In4));
        assert_eq!(
            t.map(|t| tunnel(&t)).as_deref(),
            Some("VXLAN, then IPv6 in IPv4")
        );
        assert_eq!(undecoded(Undecoded::L2tp), "L2TP");
    }
}
