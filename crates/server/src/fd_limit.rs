//! The process's file-descriptor limit: raised to the hard limit at start (where the
//! system allows), and the TCP connection limit kept below what is left after the RTP
//! sockets and a reserve, so that running out refuses new connections cleanly instead of
//! failing in the middle of a call.

use tracing::{info, warn};

/// Descriptors kept free for the database, log, HTTP and the SIP sockets.
const RESERVE: u64 = 256;

/// Raises the soft limit to the hard one; returns the limit in force.
pub fn raise() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur < limit.rlim_max {
        let wanted = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    limit.rlim_cur
}

/// The TCP connection limit that fits `descriptors` next to `rtp_pairs` port pairs (two
/// sockets each) and the reserve; warns when `wanted` had to be lowered.
pub fn tcp_budget(descriptors: u64, rtp_pairs: usize, wanted: usize) -> usize {
    let left = descriptors
        .saturating_sub(2 * rtp_pairs as u64)
        .saturating_sub(RESERVE)
        .max(16);
    let budget = (wanted as u64).min(left) as usize;
    if budget < wanted {
        warn!(
            descriptors,
            rtp_pairs,
            wanted,
            budget,
            "the file-descriptor limit leaves room for fewer SIP TCP connections than \
             limits.tcp_connections; raise LimitNOFILE (ulimit -n) or narrow rtp.ports"
        );
    } else {
        info!(descriptors, "file-descriptor limit");
    }
    budget
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_leaves_rtp_and_the_reserve_alone() {
        assert_eq!(tcp_budget(1_048_576, 5000, 2048), 2048);
        assert_eq!(tcp_budget(1024, 100, 2048), 1024 - 200 - 256);
        assert_eq!(tcp_budget(512, 5000, 2048), 16, "never below a handful");
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = {
            let mut l = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: reads the struct only.
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
            l.rlim_cur
        };
        assert!(raise() >= before);
    }
}
