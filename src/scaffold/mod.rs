//! `shipc init`: the text of a new service file, and of a platform file when the project has none,
//! rendered from the handlebars templates beside this file. The command line decides where they go and
//! checks the result before writing it.

use handlebars::Handlebars;
use serde::Serialize;

use crate::check::k8s_names;
use crate::emit::OutputFile;

const SERVICE_TEMPLATE: &str = include_str!("service.ship.hbs");
const PLATFORM_TEMPLATE: &str = include_str!("platform.ship.hbs");

/// What the new platform file says, when one is made.
#[derive(Serialize, Debug, Clone)]
pub struct PlatformSettings {
    /// Image registry prefix.
    pub registry: String,
    /// Namespace of the services.
    pub namespace: String,
    /// Prometheus base URL.
    pub prometheus: String,
}

/// Where the new service finds its platform.
#[derive(Debug, Clone)]
pub enum Platform {
    /// An existing file, as the new service file imports it (`./platform`).
    Existing(String),
    /// A new `platform.ship` beside the service, with these settings.
    New(PlatformSettings),
}

#[derive(Serialize)]
struct ServiceValues<'a> {
    name: &'a str,
    platform_import: &'a str,
}

/// The new files, by path relative to the directory they go in: `<name>.ship`, and `platform.ship`
/// when `platform` is new. Fails when the name cannot be a service name.
pub fn service(name: &str, platform: &Platform) -> Result<Vec<OutputFile>, String> {
    if let Some(problem) = service_name_problem(name) {
        return Err(format!("`{name}` cannot name a service: {problem}"));
    }
    let mut templates = Handlebars::new();
    templates.set_strict_mode(true);
    templates.register_escape_fn(handlebars::no_escape);
    let platform_import = match platform {
        Platform::Existing(import) => import.as_str(),
        Platform::New(_) => "./platform",
    };
    let mut files = vec![OutputFile {
        path: format!("{name}.ship"),
        contents: templates
            .render_template(SERVICE_TEMPLATE, &ServiceValues { name, platform_import })
            .map_err(|error| error.to_string())?,
        documents: 0,
    }];
    if let Platform::New(settings) = platform {
        files.push(OutputFile {
            path: "platform.ship".to_string(),
            contents: templates
                .render_template(PLATFORM_TEMPLATE, settings)
                .map_err(|error| error.to_string())?,
            documents: 0,
        });
    }
    Ok(files)
}

/// Why `name` cannot be written as a service: it must be a name of the language and a DNS-1123 label.
fn service_name_problem(name: &str) -> Option<String> {
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("it must start with a lowercase letter".to_string());
    }
    k8s_names::dns1123_label_problem(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Platform {
        Platform::New(PlatformSettings {
            registry: "registry.example.com/shop".into(),
            namespace: "shop".into(),
            prometheus: "http://prometheus:9090".into(),
        })
    }

    #[test]
    fn a_new_project_gets_a_service_and_a_platform_that_build() {
        let files = service("orders", &settings()).unwrap();
        let mut loader = crate::MemoryLoader::new();
        for file in &files {
            loader.insert(file.path.clone(), file.contents.clone());
        }
        let compilation = crate::build(&["orders.ship".to_string()], &loader);
        assert!(compilation.diagnostics.is_empty(), "{:?}", compilation.diagnostics);
        assert!(compilation.outputs.iter().any(|f| f.path == "orders/rollout.yaml"));
    }

    #[test]
    fn an_existing_platform_is_imported_not_repeated() {
        let files = service("orders", &Platform::Existing("./shared/platform".into())).unwrap();
        assert_eq!(files.len(), 1);
        assert!(files[0].contents.contains("import \"./shared/platform\""));
    }

    #[test]
    fn names_that_cannot_be_services_are_refused() {
        for name in ["Orders", "9lives", "a_b", "x-", ""] {
            assert!(service(name, &settings()).is_err(), "{name}");
        }
    }
}
