//! The proposals the load generator sends: refunds whose amounts land on each level of
//! the worked example (SPEC §4): under $50 autonomous, $50–$500 a 24-hour time bomb,
//! above $500 human approval.

use std::fmt;
use std::str::FromStr;

use axum::body::Bytes;
use serde_json::json;

/// How many of each level to send, as weights (`time_bomb=80,autonomous=10,human_approval=10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    pub time_bomb: u32,
    pub autonomous: u32,
    pub human_approval: u32,
}

impl Mix {
    pub fn total(&self) -> u32 {
        self.time_bomb + self.autonomous + self.human_approval
    }

    /// One request body per unit of weight, interleaved so that every stretch of the
    /// sequence has about the right mix (a client walks it from its own offset).
    pub fn bodies(&self) -> Vec<Bytes> {
        let kinds = [
            (self.time_bomb, "120.00"),
            (self.autonomous, "20.00"),
            (self.human_approval, "900.00"),
        ];
        let total = f64::from(self.total());
        let mut sent = [0u32; 3];
        (0..self.total())
            .map(|i| {
                // Pick the level furthest behind its share so far.
                let due = |k: usize| {
                    f64::from(kinds[k].0) * f64::from(i + 1) / total - f64::from(sent[k])
                };
                let k = (0..3)
                    .filter(|&k| kinds[k].0 > sent[k])
                    .max_by(|&a, &b| due(a).total_cmp(&due(b)))
                    .unwrap_or(0);
                sent[k] += 1;
                refund_body(kinds[k].1)
            })
            .collect()
    }
}

/// A refund proposal as an agent would send it (about 350 bytes of JSON).
pub fn refund_body(amount: &str) -> Bytes {
    let body = json!({
        "category": "REFUND",
        "title": format!("Refund ${amount} for the duplicate March charge"),
        "rationale": "The customer was charged twice for invoice INV-2041; the bank statement is attached to the ticket.",
        "payload": {
            "customer_id": "cus_4471",
            "amount": amount,
            "currency": "USD",
            "kind": "partial",
            "reason": "Charged twice for the March invoice.",
        },
        "tags": ["billing"],
    });
    Bytes::from(body.to_string())
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Mix, String> {
        let mut mix = Mix {
            time_bomb: 0,
            autonomous: 0,
            human_approval: 0,
        };
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: write LEVEL=WEIGHT"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("`{part}`: the weight is a whole number"))?;
            let slot = match name.trim() {
                "time_bomb" => &mut mix.time_bomb,
                "autonomous" => &mut mix.autonomous,
                "human_approval" => &mut mix.human_approval,
                other => {
                    return Err(format!(
                        "unknown level `{other}` (time_bomb, autonomous, human_approval)"
                    ));
                }
            };
            *slot = weight;
        }
        if mix.total() == 0 || mix.total() > 10_000 {
            return Err("the weights must add up to between 1 and 10000".to_owned());
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |w: u32| 100.0 * f64::from(w) / f64::from(self.total());
        write!(
            f,
            "time bomb ($120) {:.0}%, autonomous ($20) {:.0}%, human approval ($900) {:.0}%",
            pct(self.time_bomb),
            pct(self.autonomous),
            pct(self.human_approval)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_reads_named_weights_and_rejects_unknown_levels() {
        let m: Mix = "time_bomb=8,autonomous=1,human_approval=1".parse().unwrap();
        assert_eq!((m.time_bomb, m.autonomous, m.human_approval), (8, 1, 1));
        assert!("advisory=1".parse::<Mix>().is_err());
        assert!("time_bomb=0".parse::<Mix>().is_err());
    }

    #[test]
    fn the_bodies_hold_each_level_by_its_weight_spread_through_the_sequence() {
        let m: Mix = "time_bomb=80,autonomous=10,human_approval=10"
            .parse()
            .unwrap();
        let bodies = m.bodies();
        assert_eq!(bodies.len(), 100);
        let autonomous = refund_body("20.00");
        let positions: Vec<usize> = (0..100).filter(|&i| bodies[i] == autonomous).collect();
        assert_eq!(positions.len(), 10);
        assert!(
            positions.windows(2).all(|w| w[1] - w[0] <= 12),
            "{positions:?}"
        );
    }
}
