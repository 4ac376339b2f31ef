"""PodTopologySpread: spread matching pods evenly over zones, hosts or any topology."""
