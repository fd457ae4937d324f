//! System schedules from `config/schedules.toml` (`scheduler.schedules_file`):
//! read and checked at startup, then mirrored into the `schedules` table
//! (`tenant_id` null) so they share the per-tenant rows' cursor, catch-up and
//! replica-safety. Edits to the file take effect when a scheduler restarts.

use std::path::Path;

use chrono::{DateTime, Utc};
use figment::providers::{Format, Toml};
use figment::Figment;
use jobs::kinds::Registry;
use jobs::store::schedules::{self, ScheduleSpec};
use jobs::store::tenants::DEFAULT_TIMEZONE;
use serde::Deserialize;
use sqlx::PgPool;

/// The file's shape: `[[schedule]]` tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchedulesFile {
    #[serde(default)]
    schedule: Vec<ScheduleSpec>,
}

/// Why the schedules file was refused; the message names the file and the field.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// Reads and checks the file; a missing file means no system schedules.
pub fn load(path: &Path, registry: &Registry) -> Result<Vec<ScheduleSpec>, FileError> {
    let invalid = |message: String| FileError::Invalid {
        file: path.display().to_string(),
        message,
    };
    if !path.exists() {
        tracing::info!(file = %path.display(), "no schedules file; no system schedules");
        return Ok(Vec::new());
    }
    let file: SchedulesFile = Figment::from(Toml::file(path))
        .extract()
        .map_err(|e| invalid(e.to_string()))?;
    let mut names = std::collections::BTreeSet::new();
    for (i, spec) in file.schedule.iter().enumerate() {
        spec.validate(registry).map_err(|e| {
            invalid(format!(
                "schedule[{i}] ({:?}).{}: {}",
                spec.name, e.path, e.message
            ))
        })?;
        if !names.insert(spec.name.as_str()) {
            return Err(invalid(format!(
                "schedule[{i}]: duplicate name {:?}",
                spec.name
            )));
        }
    }
    Ok(file.schedule)
}

/// Mirrors `specs` into the table in one transaction: upserts each, deletes
/// system rows no longer in the file. Safe when replicas start together.
pub async fn sync(
    pool: &PgPool,
    specs: &[ScheduleSpec],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for spec in specs {
        schedules::upsert_system(&mut *tx, spec, spec.timezone_or(DEFAULT_TIMEZONE), now).await?;
    }
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let removed = schedules::delete_system_except(&mut *tx, &names).await?;
    tx.commit().await?;
    tracing::info!(
        schedules = specs.len(),
        removed,
        "system schedules synced from file"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(body: &str) -> (tempdir::Dir, std::path::PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("schedules.toml");
        std::fs::write(&path, body).unwrap();
        (dir, path)
    }

    /// A directory removed on drop (no tempfile crate in the workspace).
    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!("tarefa-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_shipped_sample_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/schedules.toml");
        load(&path, &Registry::builtin()).unwrap();
    }

    #[test]
    fn a_missing_file_means_no_schedules() {
        assert!(load(
            Path::new("/nonexistent/schedules.toml"),
            &Registry::builtin()
        )
        .unwrap()
        .is_empty());
    }

    #[test]
    fn entries_load_with_defaults() {
        let (_d, path) =
            write("[[schedule]]\nname = \"noop\"\ncron = \"0 0 3 * * *\"\nkind = \"diag.noop\"\n");
        let specs = load(&path, &Registry::builtin()).unwrap();
        assert_eq!(specs.len(), 1);
        assert!(specs[0].enabled);
        assert_eq!(specs[0].timezone_or(DEFAULT_TIMEZONE), "America/Sao_Paulo");
    }

    #[test]
    fn a_bad_entry_is_named() {
        let (_d, path) =
            write("[[schedule]]\nname = \"x\"\ncron = \"0 0 3 * *\"\nkind = \"diag.noop\"\n");
        let err = load(&path, &Registry::builtin()).unwrap_err().to_string();
        assert!(err.contains("schedule[0]") && err.contains("cron"), "{err}");
        let (_d, path) = write("[[schedule]]\nname = \"x\"\ncron = \"@daily\"\nkind = \"diag.noop\"\n[[schedule]]\nname = \"x\"\ncron = \"@daily\"\nkind = \"diag.noop\"\n");
        let err = load(&path, &Registry::builtin()).unwrap_err().to_string();
        assert!(err.contains("duplicate"), "{err}");
    }
}
