//! Which register does an operation: by `cashboxId`, else the least busy register of the
//! `cashboxGroupId`, else the least busy register of the `juridicalPersonId`, else the default.
//!
//! "Busy" is the register's unfinished load in the store (Queued + Waiting + Sending). Only
//! registers the token may use are candidates. This module neither stores nor authenticates.

use std::collections::BTreeMap;

use fiscal_model::Routing;
use queue::{RegisterId, Store};

use crate::auth::Access;
use crate::{ApiError, RegisterRoute};

/// The load states counted as "busy".
const BUSY_STATES: [&str; 3] = ["queued", "waiting", "sending"];

/// Chooses the register for `routing`. Among a group's or a person's registers, those that
/// `can_take` the operation (e.g. have tax groups for its VAT rates) are preferred.
pub fn choose<'a>(
    registers: &'a [RegisterRoute],
    default_register: Option<&str>,
    routing: &Routing,
    access: &Access,
    store: &Store,
    can_take: impl Fn(&RegisterRoute) -> bool,
) -> Result<&'a RegisterRoute, ApiError> {
    if let Some(id) = &routing.cashbox_id {
        let register = find(registers, id).ok_or_else(|| {
            ApiError::invalid(
                "cashboxId",
                format!("unknown cashbox {id}: no such register is configured"),
            )
        })?;
        return permitted(register, access);
    }
    if let Some(group) = &routing.cashbox_group_id {
        let members: Vec<&RegisterRoute> = registers
            .iter()
            .filter(|r| same(r.group_id.as_deref(), group))
            .collect();
        if members.is_empty() {
            return Err(ApiError::invalid(
                "cashboxGroupId",
                format!("unknown cashbox group {group}: no register belongs to it"),
            ));
        }
        return least_busy(
            members,
            access,
            store,
            &can_take,
            &format!("cashbox group {group}"),
        );
    }
    if let Some(person) = &routing.juridical_person_id {
        let members: Vec<&RegisterRoute> = registers
            .iter()
            .filter(|r| same(r.juridical_person_id.as_deref(), person))
            .collect();
        if members.is_empty() {
            return Err(ApiError::invalid(
                "juridicalPersonId",
                format!("unknown juridical person {person}: no register belongs to it"),
            ));
        }
        return least_busy(
            members,
            access,
            store,
            &can_take,
            &format!("juridical person {person}"),
        );
    }
    let id = default_register.ok_or_else(|| {
        ApiError::invalid(
            "cashboxId",
            "is required: no default cashbox is configured (or give cashboxGroupId / juridicalPersonId)",
        )
    })?;
    let register = find(registers, id).ok_or_else(|| {
        ApiError::invalid(
            "cashboxId",
            format!("the default cashbox {id} is not configured"),
        )
    })?;
    permitted(register, access)
}

/// The configured register with this id (GUIDs compare case-insensitively).
pub fn find<'a>(registers: &'a [RegisterRoute], id: &str) -> Option<&'a RegisterRoute> {
    registers.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

fn same(configured: Option<&str>, asked: &str) -> bool {
    configured.is_some_and(|c| c.eq_ignore_ascii_case(asked))
}

fn permitted<'a>(
    register: &'a RegisterRoute,
    access: &Access,
) -> Result<&'a RegisterRoute, ApiError> {
    if access.allows(register) {
        Ok(register)
    } else {
        Err(ApiError::Forbidden(format!(
            "this token may not use cashbox {}",
            register.id
        )))
    }
}

fn least_busy<'a>(
    members: Vec<&'a RegisterRoute>,
    access: &Access,
    store: &Store,
    can_take: &impl Fn(&RegisterRoute) -> bool,
    what: &str,
) -> Result<&'a RegisterRoute, ApiError> {
    let allowed: Vec<&RegisterRoute> = members.into_iter().filter(|r| access.allows(r)).collect();
    if allowed.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "this token may not use any cashbox of {what}"
        )));
    }
    let capable: Vec<&RegisterRoute> = allowed.iter().copied().filter(|r| can_take(r)).collect();
    // When none can take it, any is chosen and the caller's own check names the reason.
    let allowed = if capable.is_empty() { allowed } else { capable };
    let depth = store.depth()?;
    let load = |r: &RegisterRoute| busy(&depth, &r.id);
    // min_by_key keeps the first of equals: ties go to the register configured first.
    allowed
        .into_iter()
        .min_by_key(|r| load(r))
        .ok_or_else(|| ApiError::Forbidden(format!("no cashbox of {what} is available")))
}

fn busy(depth: &BTreeMap<RegisterId, BTreeMap<&'static str, u64>>, id: &str) -> u64 {
    depth
        .get(&RegisterId::new(id))
        .map(|states| {
            BUSY_STATES
                .iter()
                .filter_map(|s| states.get(s))
                .sum::<u64>()
        })
        .unwrap_or(0)
}
