// Command pion-echo is pion/webrtc v3 as a webrtc-echoes peer, built offline in GOPATH mode
// against Debian's golang-github-pion-webrtc.v3-dev (see build.sh). Run it inside the
// isolated namespace:
//
//	pion-echo client URL TEST   offer a data channel to URL (POST /offer, candidates in the
//	                            offer); TEST 0 passes when DTLS connects, 1 when a random
//	                            string comes back on the channel. Exit 0 / 1, 20 s limit.
//	pion-echo server PORT       answer POST /offer on 127.0.0.1:PORT and echo every data
//	                            channel message (candidates in the answer).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pion/webrtc/v3"
)

// newAPI gathers loopback candidates: the namespace has nothing else.
func newAPI() *webrtc.API {
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	return webrtc.NewAPI(webrtc.WithSettingEngine(s))
}

func client(url, test string) int {
	result := make(chan error, 1)
	finish := func(err error) {
		select {
		case result <- err:
		default:
		}
	}
	pc, err := newAPI().NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return report(test, err, "")
	}
	defer pc.Close()
	what := ""
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		// pion's "connected" means ICE and DTLS are both connected.
		if s == webrtc.PeerConnectionStateConnected && test == "0" {
			what = "DTLS connected (state connected)"
			finish(nil)
		}
		if s == webrtc.PeerConnectionStateFailed {
			finish(fmt.Errorf("connection failed"))
		}
	})
	dc, err := pc.CreateDataChannel("echo", nil)
	if err != nil {
		return report(test, err, "")
	}
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	text := "pion-" + hex.EncodeToString(buf)
	dc.OnOpen(func() {
		if err := dc.SendText(text); err != nil {
			finish(err)
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if string(m.Data) == text {
			what = fmt.Sprintf("%q came back on the data channel", text)
			finish(nil)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return report(test, err, "")
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return report(test, err, "")
	}
	<-gathered
	body, _ := json.Marshal(pc.LocalDescription())
	res, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return report(test, err, "")
	}
	data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return report(test, fmt.Errorf("POST %s: %s: %s", url, res.Status, data), "")
	}
	var answer webrtc.SessionDescription
	if err := json.Unmarshal(data, &answer); err != nil {
		return report(test, err, "")
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		return report(test, err, "")
	}
	select {
	case err = <-result:
	case <-time.After(20 * time.Second):
		err = fmt.Errorf("timed out after 20 s")
	}
	return report(test, err, what)
}

func report(test string, err error, what string) int {
	if err != nil {
		fmt.Printf("pion client test %s: FAILED: %v\n", test, err)
		return 1
	}
	fmt.Printf("pion client test %s: passed: %s\n", test, what)
	return 0
}

func server(port string) {
	api := newAPI()
	http.HandleFunc("/offer", func(w http.ResponseWriter, r *http.Request) {
		var offer webrtc.SessionDescription
		if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&offer) != nil {
			http.Error(w, "POST /offer with a JSON offer", http.StatusBadRequest)
			return
		}
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			fmt.Printf("pion server: connection %s\n", s)
			if s == webrtc.PeerConnectionStateFailed {
				pc.Close()
			}
		})
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			dc.OnMessage(func(m webrtc.DataChannelMessage) {
				if m.IsString {
					_ = dc.SendText(string(m.Data))
				} else {
					_ = dc.Send(m.Data)
				}
			})
		})
		if err := pc.SetRemoteDescription(offer); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(answer); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		<-gathered
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(pc.LocalDescription())
	})
	fmt.Printf("pion server: POST http://127.0.0.1:%s/offer\n", port)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, "pion server:", err)
		os.Exit(1)
	}
}

func main() {
	switch {
	case len(os.Args) == 4 && os.Args[1] == "client":
		os.Exit(client(os.Args[2], os.Args[3]))
	case len(os.Args) == 3 && os.Args[1] == "server":
		server(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: pion-echo client URL TEST | server PORT")
		os.Exit(2)
	}
}
