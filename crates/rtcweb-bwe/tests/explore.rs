mod common;
use common::{Scenario, run, secs};
use rtcweb_bwe::Bitrate;
use std::time::Duration;

#[test]
fn one() {
    let seed = 3;
    let mut d = Scenario::standard("down", Bitrate::from_kbps(2500));
    d.capacity = vec![
        (Duration::ZERO, Bitrate::from_kbps(2500)),
        (secs(10.0), Bitrate::from_kbps(800)),
        (secs(20.0), Bitrate::from_kbps(2500)),
    ];
    d.seed = seed;
    d.flows[0].seed = seed * 7;
    let r = run(&d);
    for smp in r.samples.iter().skip(195).take(50) {
        let f = smp.flows[0];
        println!(
            "{:4.1} tgt {:6.0} sent {:6.0} pad {:6.0} rx {:6.0} q {:5.1} max {:5.1} est_q {:5.1}",
            smp.t.as_secs_f64(),
            f.target / 1e3,
            f.sent / 1e3,
            f.padding / 1e3,
            f.received / 1e3,
            f.queue_ms,
            f.queue_max_ms,
            f.est_queue_ms
        );
    }
}
