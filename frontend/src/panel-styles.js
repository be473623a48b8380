// The Access panel's own styles: toolbar, tabs, the grants table (cards at phone width).
import { css } from "lit";

export const panelStyles = css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--primary-background-color, #fafafa);
      }
      .toolbar {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        padding: 8px 16px;
        background: var(--app-header-background-color, var(--primary-color, #03a9f4));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .toolbar h1 {
        font-size: 20px;
        font-weight: 400;
        margin: 0 8px 0 0;
      }
      nav {
        display: flex;
        gap: 4px;
      }
      .tab {
        background: transparent;
        border: none;
        color: inherit;
        opacity: 0.75;
        border-bottom: 2px solid transparent;
        border-radius: 0;
      }
      .tab.on {
        opacity: 1;
        border-bottom-color: currentColor;
      }
      .site {
        margin-left: auto;
        display: flex;
        gap: 6px;
        align-items: center;
      }
      .content {
        padding: 16px;
        max-width: 1400px;
        margin: 0 auto;
      }
      .filters {
        display: flex;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .search {
        flex: 1 1 200px;
      }
      table.grants {
        width: 100%;
        border-collapse: collapse;
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        overflow: hidden;
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
      }
      th, td {
        text-align: left;
        padding: 8px 10px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        vertical-align: top;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      .state {
        padding: 2px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
        white-space: nowrap;
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .state.suspended {
        background: var(--warning-color, #ffa600);
        color: #fff;
      }
      .codes {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .code.rejected, .code.no_free_slot, .code.not_removed {
        color: var(--error-color, #db4437);
      }
      .code.pending {
        color: var(--warning-color, #ffa600);
      }
      .code.no_keypad {
        color: var(--secondary-text-color, #727272);
      }
      .actions {
        display: flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      .actions button {
        padding: 4px 8px;
        min-height: 32px;
      }
      @media (max-width: 760px) {
        table.grants, table.grants tbody, table.grants tr, table.grants td {
          display: block;
          width: auto;
        }
        table.grants thead {
          display: none;
        }
        table.grants tr {
          border-bottom: 8px solid var(--primary-background-color, #fafafa);
          padding: 4px 0;
        }
        table.grants td {
          border: none;
          padding: 3px 12px;
        }
        table.grants td[data-title]:not(.label)::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `;
