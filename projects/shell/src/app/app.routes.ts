import type { Routes } from '@angular/router';
import { signedInGuard, signedOutGuard } from './core/guards';

export const routes: Routes = [
  {
    path: 'login',
    title: 'Sign in · Payments',
    canActivate: [signedOutGuard],
    loadComponent: () => import('./login/login-page').then((m) => m.LoginPage),
  },
  {
    path: '',
    pathMatch: 'full',
    title: 'Payments',
    canActivate: [signedInGuard],
    loadComponent: () => import('./dashboard/dashboard-page').then((m) => m.DashboardPage),
  },
  {
    path: 'payments/:paymentId',
    title: 'Payment · Payments',
    canActivate: [signedInGuard],
    loadComponent: () => import('./payment-detail/payment-detail-page').then((m) => m.PaymentDetailPage),
  },
  { path: '**', redirectTo: '' },
];
