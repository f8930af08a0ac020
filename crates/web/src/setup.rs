//! Setting up an organisation: the organisation row and the instruments every organisation
//! starts with (the shipped, openly licensed ones).

use alongside_core::OrgId;
use alongside_measure::Instrument;
use alongside_store::people::Source;
use alongside_store::{Result, Store};

/// Creates an organisation and loads the shipped instruments into it.
pub async fn create_organisation(store: &Store, name: &str, kind: &str) -> Result<OrgId> {
    let org = store.create_organisation(name, kind).await?;
    install_shipped_instruments(store, org).await?;
    Ok(org)
}

/// Loads every shipped instrument (idempotent: already-loaded versions are left alone).
pub async fn install_shipped_instruments(store: &Store, org: OrgId) -> Result<()> {
    for (_, json) in alongside_measure::shipped::ALL {
        let i = Instrument::from_json_str(json).expect("shipped instruments are valid");
        let title = i
            .title(i.definition().languages.default.as_str())
            .to_string();
        store
            .install_instrument(
                org,
                i.id(),
                i.version(),
                &title,
                json,
                None,
                Source(Some("system".into())),
            )
            .await?;
    }
    Ok(())
}
