//! The OpenAPI document, generated from the same route list the routers are built
//! from, so a route cannot exist without being described.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::routes::{cancel, decide, report, request};
use crate::{AppState, Function};

#[derive(OpenApi)]
#[openapi(
    info(title = "tempaccess", description = "Temporary, approved access to a single protected entry."),
    modifiers(&BearerAuth),
    components(schemas(
        tempaccess_core::wire::MailView,
        tempaccess_core::wire::LoginBody,
        tempaccess_core::wire::TokenView,
        tempaccess_core::service::ReportScope,
        tempaccess_core::report::ReportOrder,
    )),
    tags(
        (name = "request", description = "Entries and new requests"),
        (name = "decide", description = "Approve or deny"),
        (name = "cancel", description = "Cancel and revoke"),
        (name = "report", description = "Reports, access now, credentials"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// The routes of one function with their descriptions.
pub fn parts(function: Function) -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    match function {
        Function::Request => router
            .routes(routes!(request::list_entries))
            .routes(routes!(request::submit)),
        Function::Decide => router
            .routes(routes!(decide::decide))
            .routes(routes!(decide::lookup))
            .routes(routes!(decide::open))
            .routes(routes!(decide::decide_by_link)),
        Function::Cancel => router.routes(routes!(cancel::cancel)),
        Function::Report => router
            .routes(routes!(report::me))
            .routes(routes!(report::secret))
            .routes(routes!(report::list_requests))
            .routes(routes!(report::request_detail))
            .routes(routes!(report::access_now))
            .route(
                crate::table::DOCUMENT_PATH,
                axum::routing::get(crate::table::kept_document),
            ),
    }
}

/// Every function's routes.
pub fn all_parts() -> OpenApiRouter<AppState> {
    Function::ALL
        .into_iter()
        .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |acc, f| {
            acc.merge(parts(f))
        })
}

/// The whole API's document.
pub fn document() -> utoipa::openapi::OpenApi {
    all_parts().split_for_parts().1
}
