//! Black-box tests of the contacts platform.

mod api_catalog;
mod api_consent;
mod api_contacts;
mod api_errors;
mod api_exporters;
mod api_exports;
mod api_imports;
mod api_listing;
mod api_logs;
mod aws;
mod console_aws;
mod contract_dynamo;
mod contract_embedded;
mod contract_folder;
mod contract_s3;
mod events;
mod export_function;
mod faults;
mod import_function;
mod local_server;
mod openapi;
mod phones;
mod security;
mod spreadsheet;
mod support;
mod throttling;
