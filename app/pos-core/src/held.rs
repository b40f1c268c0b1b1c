//! Held (parked) carts: park a cart with a label, serve the next customer, resume it later on
//! this or another terminal. A cart can be resumed once; a second attempt says who took it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cart::Cart;
use crate::clock::Timestamp;
use crate::id::{DeviceId, HeldCartId, UserId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCart {
    pub id: HeldCartId,
    pub label: String,
    pub cart: Cart,
    pub held_at: Timestamp,
    pub held_by: UserId,
    pub device: DeviceId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Resumed {
    device: DeviceId,
    at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeldError {
    #[error("there is nothing to hold: the cart is empty")]
    EmptyCart,
    #[error("no held cart {0}")]
    NotFound(HeldCartId),
    #[error("held cart {id} was already resumed on terminal {device}")]
    AlreadyResumed { id: HeldCartId, device: DeviceId },
    #[error("a held cart with id {0} already exists")]
    DuplicateId(HeldCartId),
}

/// Every held cart of a store, and which have been resumed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCarts {
    held: BTreeMap<HeldCartId, HeldCart>,
    resumed: BTreeMap<HeldCartId, Resumed>,
}

impl HeldCarts {
    /// Parks `cart`. An empty label gets "Held <time order number>".
    pub fn hold(&mut self, held: HeldCart) -> Result<(), HeldError> {
        if held.cart.is_empty() {
            return Err(HeldError::EmptyCart);
        }
        if self.held.contains_key(&held.id) || self.resumed.contains_key(&held.id) {
            return Err(HeldError::DuplicateId(held.id));
        }
        let mut held = held;
        if held.label.trim().is_empty() {
            held.label = format!("Held #{}", self.held.len() + self.resumed.len() + 1);
        }
        self.held.insert(held.id.clone(), held);
        Ok(())
    }

    /// Takes a held cart back to the till.
    pub fn resume(
        &mut self,
        id: &HeldCartId,
        device: &DeviceId,
        at: Timestamp,
    ) -> Result<HeldCart, HeldError> {
        if let Some(resumed) = self.resumed.get(id) {
            return Err(HeldError::AlreadyResumed {
                id: id.clone(),
                device: resumed.device.clone(),
            });
        }
        let held = self
            .held
            .remove(id)
            .ok_or_else(|| HeldError::NotFound(id.clone()))?;
        self.resumed.insert(
            id.clone(),
            Resumed {
                device: device.clone(),
                at,
            },
        );
        Ok(held)
    }

    /// Held carts, oldest first.
    pub fn list(&self) -> Vec<&HeldCart> {
        let mut carts: Vec<&HeldCart> = self.held.values().collect();
        carts.sort_by(|a, b| a.held_at.cmp(&b.held_at).then(a.id.cmp(&b.id)));
        carts
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}
