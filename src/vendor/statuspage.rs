//! The Statuspage `summary.json` format, as far as routedesk reads it. Unknown fields are ignored
//! and missing ones default, so a vendor's additions do not break the poll.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Summary {
    pub page: Page,
    pub status: PageStatus,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub scheduled_maintenances: Vec<Incident>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PageStatus {
    /// none | minor | major | critical | maintenance
    pub indicator: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// operational | degraded_performance | partial_outage | major_outage | under_maintenance
    pub status: String,
    pub group: bool,
    pub group_id: Option<String>,
}

/// An incident or a scheduled maintenance (the same shape, plus the schedule).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Incident {
    pub id: String,
    pub name: String,
    pub status: String,
    pub impact: String,
    pub shortlink: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub resolved_at: Option<String>,
    pub scheduled_for: Option<String>,
    pub scheduled_until: Option<String>,
    pub incident_updates: Vec<Update>,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Update {
    pub status: String,
    pub body: String,
    pub created_at: String,
}
