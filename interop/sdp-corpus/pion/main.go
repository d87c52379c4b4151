// Command pion-capture prints pion/webrtc v3 offers and answers into a directory.
// Built offline in GOPATH mode against Debian's golang-github-pion-webrtc.v3-dev.
//
//	pion-capture OUTDIR WORKDIR [OUR_ANSWER_CMD...]
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/webrtc/v3"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pion-capture:", err)
		os.Exit(1)
	}
}

func newPC(media bool) *webrtc.PeerConnection {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	check(err)
	if media {
		audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "stream")
		check(err)
		video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "stream")
		check(err)
		_, err = pc.AddTrack(audio)
		check(err)
		_, err = pc.AddTrack(video)
		check(err)
	}
	return pc
}

func gathered(pc *webrtc.PeerConnection) string {
	select {
	case <-webrtc.GatheringCompletePromise(pc):
	case <-time.After(5 * time.Second):
	}
	return pc.LocalDescription().SDP
}

func write(dir, name, sdp string) {
	check(os.WriteFile(filepath.Join(dir, name), []byte(sdp), 0o644))
	fmt.Printf("captured %s (%d bytes)\n", name, len(sdp))
}

func main() {
	out, work, cmd := os.Args[1], os.Args[2], os.Args[3:]
	failed := false
	for _, c := range []struct {
		name  string
		media bool
	}{{"offer-av-data", true}, {"offer-data", false}} {
		pc := newPC(c.media)
		_, err := pc.CreateDataChannel("capture", nil)
		check(err)
		offer, err := pc.CreateOffer(nil)
		check(err)
		check(pc.SetLocalDescription(offer))
		offerSDP := gathered(pc)
		write(out, "pion-"+c.name+".sdp", offerSDP)

		pc2 := newPC(c.media)
		check(pc2.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}))
		answer, err := pc2.CreateAnswer(nil)
		check(err)
		check(pc2.SetLocalDescription(answer))
		write(out, "pion-"+strings.Replace(c.name, "offer", "answer", 1)+".sdp", gathered(pc2))
		check(pc2.Close())

		if len(cmd) > 0 {
			run := exec.Command(cmd[0], cmd[1:]...)
			run.Stdin = bytes.NewBufferString(offerSDP)
			ours, err := run.Output()
			check(err)
			write(work, "pion-"+c.name+".our-answer.sdp", string(ours))
			if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(ours)}); err != nil {
				fmt.Printf("check pion-%s: REJECTED: %v\n", c.name, err)
				failed = true
			} else {
				fmt.Printf("check pion-%s: accepted: signalingState=%s\n", c.name, pc.SignalingState())
			}
		}
		check(pc.Close())
	}
	// Our offers (examples/jsep-offer.rs), answered by pion and checked by our side.
	if our := os.Getenv("OUR_OFFER"); our != "" {
		for _, c := range []struct {
			kind  string
			media bool
		}{{"av-data", true}, {"data", false}} {
			offer, err := exec.Command(our, "offer", c.kind).Output()
			check(err)
			pc := newPC(c.media)
			check(pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}))
			answer, err := pc.CreateAnswer(nil)
			check(err)
			check(pc.SetLocalDescription(answer))
			sdp := gathered(pc)
			write(work, "pion-"+c.kind+".our-offer-answer.sdp", sdp)
			run := exec.Command(our, "check", c.kind)
			run.Stdin = bytes.NewBufferString(sdp)
			var stderr bytes.Buffer
			run.Stderr = &stderr
			out, err := run.Output()
			if err != nil {
				fmt.Printf("check pion-our-offer-%s: REJECTED: %s\n", c.kind, strings.TrimSpace(stderr.String()))
				failed = true
			} else {
				fmt.Printf("check pion-our-offer-%s: accepted: %s\n", c.kind, strings.TrimSpace(string(out)))
			}
			check(pc.Close())
		}
	}
	if failed {
		os.Exit(1)
	}
}
