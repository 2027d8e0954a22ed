package node

func startRegistry(nw *Network) {}
