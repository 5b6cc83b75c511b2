//! The live state of a participant (invited or dialled in), as the web interface and
//! `konferenz participants --follow` show it, and how SIP outcomes map onto it.

use std::fmt;

/// Where an invited participant stands (the vendor's "attempted connection" is `Calling`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParticipantState {
    /// A dial-in still in the voice menu (typing the PIN).
    InMenu,
    /// The invitation exists; no call placed yet.
    Invited,
    /// Our INVITE is out.
    Calling,
    /// The phone rings (180/183).
    Ringing,
    /// In the room.
    Connected,
    /// Was connected and hung up (or was hung up).
    Left,
    /// 486 Busy Here / 600 Busy Everywhere.
    Busy,
    /// 603 Decline.
    Declined,
    /// Nobody answered within the ring time (or 408/480).
    NoAnswer,
    /// Anything else: unreachable, not found, rejected, with the SIP status and reason.
    Failed { status: u16, reason: String },
}

impl ParticipantState {
    /// The state a final failure response puts an unanswered call in.
    pub fn from_failure(status: u16, reason: &str) -> Self {
        match status {
            486 | 600 => Self::Busy,
            603 => Self::Declined,
            408 | 480 => Self::NoAnswer,
            _ => Self::Failed {
                status,
                reason: reason.to_owned(),
            },
        }
    }

    /// Whether the participant can still change state on its own (a call is under way).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Self::InMenu | Self::Invited | Self::Calling | Self::Ringing | Self::Connected
        )
    }

    /// The state a [`ParticipantState::name`] stands for (with the failure's status and
    /// reason); None for an unknown name.
    pub fn from_name(name: &str, status: Option<u16>, reason: Option<&str>) -> Option<Self> {
        Some(match name {
            "in-menu" => Self::InMenu,
            "invited" => Self::Invited,
            "calling" => Self::Calling,
            "ringing" => Self::Ringing,
            "connected" => Self::Connected,
            "left" => Self::Left,
            "busy" => Self::Busy,
            "declined" => Self::Declined,
            "no-answer" => Self::NoAnswer,
            "failed" => Self::Failed {
                status: status.unwrap_or(0),
                reason: reason.unwrap_or_default().to_owned(),
            },
            _ => return None,
        })
    }

    /// A stable lower-case name for APIs and scripts.
    pub fn name(&self) -> &'static str {
        match self {
            Self::InMenu => "in-menu",
            Self::Invited => "invited",
            Self::Calling => "calling",
            Self::Ringing => "ringing",
            Self::Connected => "connected",
            Self::Left => "left",
            Self::Busy => "busy",
            Self::Declined => "declined",
            Self::NoAnswer => "no-answer",
            Self::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for ParticipantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { status, reason } => write!(f, "failed ({status} {reason})"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ParticipantState as S;

    #[test]
    fn sip_failures_map_to_clear_states() {
        assert_eq!(S::from_failure(486, "Busy Here"), S::Busy);
        assert_eq!(S::from_failure(600, "Busy Everywhere"), S::Busy);
        assert_eq!(S::from_failure(603, "Decline"), S::Declined);
        assert_eq!(S::from_failure(408, "Request Timeout"), S::NoAnswer);
        assert_eq!(S::from_failure(480, "Temporarily Unavailable"), S::NoAnswer);
        let f = S::from_failure(404, "Not Found");
        assert_eq!(f.to_string(), "failed (404 Not Found)");
        assert!(!f.is_active() && S::Ringing.is_active());
    }

    #[test]
    fn names_round_trip() {
        let all = [
            S::InMenu,
            S::Invited,
            S::Calling,
            S::Ringing,
            S::Connected,
            S::Left,
            S::Busy,
            S::Declined,
            S::NoAnswer,
            S::Failed {
                status: 404,
                reason: "Not Found".into(),
            },
        ];
        for state in all {
            let (status, reason) = match &state {
                S::Failed { status, reason } => (Some(*status), Some(reason.as_str())),
                _ => (None, None),
            };
            assert_eq!(
                S::from_name(state.name(), status, reason),
                Some(state.clone())
            );
        }
        assert_eq!(S::from_name("bogus", None, None), None);
    }
}
