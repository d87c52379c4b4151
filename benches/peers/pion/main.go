// Command pion-bench runs the dc-bench protocol (issue 9) with pion/webrtc v3: two
// PeerConnections in this process over UDP on 127.0.0.1 (host candidates only, no mDNS),
// non-trickle in-process signaling, A offers one reliable ordered channel `bench`.
// Built offline in GOPATH mode against Debian's golang-github-pion-webrtc.v3-dev (build.sh).
//
//	pion-bench throughput|smallmsg|setup [--seconds S] [--pairs N]
//
// Bulk messages are 65,535 bytes, not 65,536 (see msgSize).
//
// Prints THROUGHPUT / SMALLMSG / SETUP lines like dc-bench, and the CPU time of the process
// (getrusage, user + system) over the measured interval.
package main

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pion-bench:", err)
		os.Exit(1)
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var api *webrtc.API

func init() {
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api = webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// complete sets the local description and returns it once gathering is done (non-trickle).
func complete(pc *webrtc.PeerConnection, d webrtc.SessionDescription) webrtc.SessionDescription {
	done := webrtc.GatheringCompletePromise(pc)
	check(pc.SetLocalDescription(d))
	<-done
	return *pc.LocalDescription()
}

type pair struct {
	a, b       *webrtc.PeerConnection
	dc, remote *webrtc.DataChannel
	setup      time.Duration
}

func connect() pair {
	a, err := api.NewPeerConnection(webrtc.Configuration{})
	check(err)
	b, err := api.NewPeerConnection(webrtc.Configuration{})
	check(err)
	remote := make(chan *webrtc.DataChannel, 1)
	b.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() { remote <- dc })
	})
	dc, err := a.CreateDataChannel("bench", nil)
	check(err)
	opened := make(chan struct{}, 1)
	dc.OnOpen(func() { opened <- struct{}{} })
	start := time.Now()
	offer, err := a.CreateOffer(nil)
	check(err)
	offer = complete(a, offer)
	check(b.SetRemoteDescription(offer))
	answer, err := b.CreateAnswer(nil)
	check(err)
	answer = complete(b, answer)
	check(a.SetRemoteDescription(answer))
	r := <-remote
	<-opened
	return pair{a, b, dc, r, time.Since(start)}
}

func transfer(size int, high, low uint64, seconds int) (uint64, uint64, float64, time.Duration) {
	p := connect()
	var bytes, messages uint64
	p.remote.OnMessage(func(m webrtc.DataChannelMessage) {
		atomic.AddUint64(&bytes, uint64(len(m.Data)))
		atomic.AddUint64(&messages, 1)
	})
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 0xa5
	}
	low_ := make(chan struct{}, 1)
	p.dc.SetBufferedAmountLowThreshold(low)
	p.dc.OnBufferedAmountLow(func() {
		select {
		case low_ <- struct{}{}:
		default:
		}
	})
	cpu0 := cpu()
	start := time.Now()
	end := start.Add(time.Duration(seconds) * time.Second)
	timer := time.NewTimer(time.Until(end))
loop:
	for time.Now().Before(end) {
		for p.dc.BufferedAmount() < high {
			check(p.dc.Send(payload))
		}
		select {
		case <-low_:
		case <-timer.C:
			break loop
		}
	}
	b, m := atomic.LoadUint64(&bytes), atomic.LoadUint64(&messages)
	wall := time.Since(start).Seconds()
	used := cpu() - cpu0
	p.a.Close()
	p.b.Close()
	return b, m, wall, used
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pion-bench throughput|smallmsg|setup [--seconds S] [--pairs N]")
		os.Exit(2)
	}
	seconds, pairs := 10, 20
	for i := 2; i+1 < len(os.Args); i += 2 {
		n, err := strconv.Atoi(os.Args[i+1])
		check(err)
		switch os.Args[i] {
		case "--seconds":
			seconds = n
		case "--pairs":
			pairs = n
		}
	}
	switch os.Args[1] {
	case "throughput":
		b, _, wall, used := transfer(msgSize(), 1024*1024, 512*1024, seconds)
		fmt.Printf("THROUGHPUT pion %.1f\n", float64(b)*8/wall/1e6)
		fmt.Printf("CPU pion cores=%.2f cpu_s=%.2f wall_s=%.2f ns_per_byte=%.2f\n",
			used.Seconds()/wall, used.Seconds(), wall, float64(used.Nanoseconds())/float64(b+1))
	case "smallmsg":
		_, m, wall, used := transfer(100, 4096, 2048, seconds)
		fmt.Printf("SMALLMSG pion %.0f\n", float64(m)/wall)
		fmt.Printf("CPU pion cores=%.2f cpu_s=%.2f wall_s=%.2f ns_per_message=%.0f\n",
			used.Seconds()/wall, used.Seconds(), wall, float64(used.Nanoseconds())/float64(m+1))
	case "setup":
		var samples []float64
		var used time.Duration
		for i := 0; i < pairs; i++ {
			c0 := cpu()
			p := connect()
			used += cpu() - c0
			samples = append(samples, p.setup.Seconds()*1e3)
			p.a.Close()
			p.b.Close()
		}
		sort.Float64s(samples)
		fmt.Printf("SETUP pion median_ms=%.2f min_ms=%.2f max_ms=%.2f\n",
			samples[len(samples)/2], samples[0], samples[len(samples)-1])
		fmt.Printf("CPU pion cpu_ms_per_pair=%.2f (including NewPeerConnection)\n",
			used.Seconds()*1e3/float64(pairs))
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

// msgSize is the bulk message size: 65,535 bytes, one less than the protocol's 64 KiB,
// because pion/sctp 1.8.6 (Debian) never delivers a 65,536-byte message: the sender's
// buffer fills and the receiver gets nothing (PION_SIZE=65536 shows it).
func msgSize() int {
	if s := os.Getenv("PION_SIZE"); s != "" {
		n, err := strconv.Atoi(s)
		check(err)
		return n
	}
	return 64*1024 - 1
}
