//! CRM formats: amoCRM and Bitrix24 webhooks, the Alytics universal format.

pub mod alytics;
pub mod amocrm;
pub mod bitrix24;
